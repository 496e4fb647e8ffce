//! IP addresses as the generator holds them and writes them (canonical text: dotted quad, or
//! RFC 5952 IPv6 with the longest run of two or more zero groups compressed, as Zeek's
//! `inet_ntop` prints).

/// An IPv4 or IPv6 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Addr {
    /// IPv4, network order.
    V4([u8; 4]),
    /// IPv6 as eight 16-bit groups.
    V6([u16; 8]),
}

impl Addr {
    /// True for IPv6.
    pub(crate) fn is_v6(self) -> bool {
        matches!(self, Addr::V6(_))
    }

    /// Append the canonical text form.
    pub(crate) fn push_text(self, out: &mut Vec<u8>) {
        match self {
            Addr::V4(octets) => {
                for (i, octet) in octets.iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    let (digits, len) = OCTETS[usize::from(*octet)];
                    out.extend_from_slice(digits.get(..usize::from(len)).unwrap_or(&digits));
                }
            }
            Addr::V6(groups) => push_v6(out, &groups),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Decimal text of every octet value (digits, length): addresses are the most frequent values
/// in every log, a table beats formatting.
const fn octet_table() -> [([u8; 3], u8); 256] {
    let mut table = [([0u8; 3], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let v = i as u8;
        table[i] = if v >= 100 {
            ([b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10], 3)
        } else if v >= 10 {
            ([b'0' + v / 10, b'0' + v % 10, 0], 2)
        } else {
            ([b'0' + v, 0, 0], 1)
        };
        i += 1;
    }
    table
}
static OCTETS: [([u8; 3], u8); 256] = octet_table();

fn push_hex_group(out: &mut Vec<u8>, group: u16) {
    let mut started = false;
    for shift in [12u16, 8, 4, 0] {
        let nibble = usize::from((group >> shift) & 0xF);
        if nibble != 0 || started || shift == 0 {
            started = true;
            out.push(HEX.get(nibble).copied().unwrap_or(b'0'));
        }
    }
}

fn push_v6(out: &mut Vec<u8>, groups: &[u16; 8]) {
    // Longest run of zero groups, first one wins ties; runs of one are not compressed.
    let (mut best_start, mut best_len) = (0usize, 0usize);
    let mut i = 0;
    while i < 8 {
        if groups.get(i) == Some(&0) {
            let start = i;
            while groups.get(i) == Some(&0) {
                i += 1;
            }
            if i - start > best_len {
                best_start = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    let run = (best_len >= 2).then_some((best_start, best_start + best_len));
    let mut i = 0;
    while i < 8 {
        if let Some((start, end)) = run {
            if i == start {
                out.extend_from_slice(b"::");
                i = end;
                continue;
            }
            if i > 0 && i != end {
                out.push(b':');
            }
        } else if i > 0 {
            out.push(b':');
        }
        push_hex_group(out, groups.get(i).copied().unwrap_or(0));
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(a: Addr) -> String {
        let mut out = Vec::new();
        a.push_text(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn matches_std_canonical_form() {
        let cases: [[u16; 8]; 7] = [
            [0x2601, 0x19e, 0x8200, 0x91e0, 0, 0, 0, 0x1ec7],
            [0x2600, 0x1901, 0, 0xe988, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 1],
            [0xfe80, 0, 0, 0, 0x1, 0, 0, 0x2],
            [0x2001, 0xdb8, 0, 1, 1, 1, 1, 1],
            [0, 0, 0, 0, 0, 0, 0, 0],
            [0x2a02, 0xc7c, 0x1234, 0xabcd, 0x0, 0x12, 0x0, 0xffff],
        ];
        for groups in cases {
            let expected = std::net::Ipv6Addr::from(groups).to_string();
            assert_eq!(text(Addr::V6(groups)), expected);
        }
        assert_eq!(text(Addr::V4([10, 0, 255, 7])), "10.0.255.7");
        assert_eq!(text(Addr::V4([100, 99, 9, 199])), "100.99.9.199");
    }
}
