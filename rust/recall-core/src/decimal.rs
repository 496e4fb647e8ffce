//! Decimal scaling shared by the decoder (parsing Zeek's `1.234567` seconds into nanoseconds) and
//! the encoder (formatting nanoseconds back as decimal seconds and ISO-8601 fractions). One table
//! so that both directions agree on the same powers.

/// Powers of ten 10^0..=10^9: up to 9 fraction digits between seconds and nanoseconds.
pub(crate) const POW10: [u64; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];
