//! Device addresses as HIL registrations give them.

/// Splits an address into host and port: `device`, `device:2222`, `[::1]:2222`. Without a
/// port the protocol's `default_port` applies. A bare IPv6 address needs brackets.
pub fn host_and_port(address: &str, default_port: u16) -> Option<(String, u16)> {
    if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match address.split_once(':') {
        Some((host, port)) if !host.is_empty() && !port.contains(':') => {
            Some((host.to_string(), port.parse().ok()?))
        }
        Some(_) => None,
        None if !address.is_empty() => Some((address.to_string(), default_port)),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_may_name_a_port() {
        assert_eq!(host_and_port("sw1", 22), Some(("sw1".into(), 22)));
        assert_eq!(
            host_and_port("127.0.0.1:2201", 22),
            Some(("127.0.0.1".into(), 2201))
        );
        assert_eq!(host_and_port("[::1]:2201", 22), Some(("::1".into(), 2201)));
        assert_eq!(host_and_port("[::1]", 623), Some(("::1".into(), 623)));
        assert_eq!(host_and_port("sw1:notaport", 22), None);
        assert_eq!(host_and_port("", 22), None);
        assert_eq!(host_and_port("::1", 22), None);
    }
}
