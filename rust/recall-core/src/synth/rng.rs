//! The generator's own pseudo-random numbers: `SplitMix64` for seeding and key mixing,
//! xoshiro256++ for streams.
//!
//! Written here rather than taken from a crate so that a given seed produces the same bytes
//! forever: a `rand` upgrade may change its algorithms or sampling, this file changes only by
//! a reviewed edit (and the golden-hash test in `mod.rs` catches that too).

/// `SplitMix64` output function: a strong 64-bit mixer (Steele, Lea, Flood 2014).
#[inline]
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mix a key into a seed: `mix(mix(seed, a), b)` derives independent seeds for files, minutes,
/// slots and servers without any shared state, so each can be computed on its own.
#[inline]
pub(crate) fn mix(seed: u64, key: u64) -> u64 {
    let mut state = seed ^ key.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    splitmix64(&mut state)
}

/// Mix a byte string (tenant or sensor name) into a seed (FNV-1a, then `SplitMix64`).
pub(crate) fn mix_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix(seed, hash)
}

/// xoshiro256++ (Blackman, Vigna 2019): fast, 256-bit state, good statistical quality.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// Seed the four state words from `SplitMix64`, as the xoshiro authors recommend.
    pub(crate) fn new(seed: u64) -> Self {
        let mut state = seed;
        let s = [
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
        ];
        Self { s }
    }

    /// Next 64 random bits.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = &mut self.s;
        let result = s0.wrapping_add(*s3).rotate_left(23).wrapping_add(*s0);
        let t = *s1 << 17;
        *s2 ^= *s0;
        *s3 ^= *s1;
        *s1 ^= *s2;
        *s0 ^= *s3;
        *s2 ^= t;
        *s3 = s3.rotate_left(45);
        result
    }

    /// Uniform integer in `0..n` (`0` when `n == 0`), by multiply-shift (Lemire); the bias is
    /// below 2^-32 for the table sizes used here, and it needs no loop.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform integer in `lo..=hi` (`lo` when `hi < lo`).
    #[inline]
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// Uniform float in `[0, 1)` with 53 random bits.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `per_mille / 1000`.
    #[inline]
    pub(crate) fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }

    /// A uniformly chosen element; `None` only for an empty slice.
    #[inline]
    pub(crate) fn pick<'t, T>(&mut self, items: &'t [T]) -> Option<&'t T> {
        items.get(self.below(items.len() as u64) as usize)
    }

    /// A log-normally distributed value with the given median and spread (sigma of the
    /// underlying normal), clamped to `[lo, hi]`. Byte counts and durations of real traffic
    /// are close to log-normal with a heavy tail.
    #[inline]
    pub(crate) fn log_normal(&mut self, median: f64, sigma: f64, lo: f64, hi: f64) -> f64 {
        (median * exp(sigma * self.normal())).clamp(lo, hi)
    }

    /// An approximately standard normal value from one draw: the sum of four 16-bit uniforms
    /// (Irwin-Hall), scaled to unit variance. Tails end at about 3.5 sigma, which the clamped
    /// log-normal sizes here never need, and it costs a fraction of Box-Muller's ln/cos/sqrt.
    #[inline]
    pub(crate) fn normal(&mut self) -> f64 {
        let x = self.next_u64();
        let sum = (x & 0xFFFF) + ((x >> 16) & 0xFFFF) + ((x >> 32) & 0xFFFF) + (x >> 48);
        // Each 16-bit uniform has mean 32767.5 and variance (65536^2 - 1) / 12.
        (sum as f64 - 131_070.0) * (3.0_f64.sqrt() / 65_536.0)
    }

    /// An index in `0..n` skewed towards 0 (popular servers are contacted far more often),
    /// roughly Zipf-like: `n * u^3`.
    #[inline]
    pub(crate) fn skewed(&mut self, n: u64) -> u64 {
        let u = self.unit();
        ((n as f64) * u * u * u) as u64
    }
}

/// `e^x` from basic IEEE operations only (range reduction by ln 2 and a Taylor polynomial),
/// so that results are bit-identical on every platform: the system `exp` may differ in the last
/// bit between libm implementations (glibc on `x86_64` and `aarch64`, musl), which would change
/// generated byte counts. Accurate to about 1e-15 relative for |x| < 700.
pub(crate) fn exp(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let x = x.clamp(-700.0, 700.0);
    let k = (x * std::f64::consts::LOG2_E).round();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Horner form of the Taylor series to r^13 / 13!; |r| <= 0.35 so the error is below 1e-17.
    let mut p = 1.0 / 6_227_020_800.0;
    for divisor in [
        479_001_600.0,
        39_916_800.0,
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
        1.0,
        1.0,
    ] {
        p = p * r + 1.0 / divisor;
    }
    let scale = f64::from_bits(((k as i64 + 1023) as u64) << 52);
    p * scale
}

/// Pick from `(weight, value)` pairs in proportion to the weights.
pub(crate) fn weighted<'t, T>(rng: &mut Rng, table: &'t [(u32, T)]) -> Option<&'t T> {
    let total: u64 = table.iter().map(|(w, _)| u64::from(*w)).sum();
    let mut r = rng.below(total);
    for (w, value) in table {
        let w = u64::from(*w);
        if r < w {
            return Some(value);
        }
        r -= w;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_known_first_values() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let first: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let again: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(first, again);
        // SplitMix64 reference value for state 0 (from the published algorithm).
        let mut state = 0u64;
        assert_eq!(splitmix64(&mut state), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn below_and_range_stay_in_bounds() {
        let mut rng = Rng::new(7);
        for n in [1u64, 2, 3, 10, 1000] {
            for _ in 0..1000 {
                assert!(rng.below(n) < n);
            }
        }
        assert_eq!(rng.below(0), 0);
        for _ in 0..1000 {
            let v = rng.range(5, 9);
            assert!((5..=9).contains(&v));
        }
        assert_eq!(rng.range(9, 5), 9);
    }

    #[test]
    fn weighted_follows_weights() {
        let mut rng = Rng::new(1);
        let table = [(9u32, 'a'), (1, 'b'), (0, 'c')];
        let mut hits = [0u32; 3];
        for _ in 0..10_000 {
            match weighted(&mut rng, &table) {
                Some('a') => hits[0] += 1,
                Some('b') => hits[1] += 1,
                _ => hits[2] += 1,
            }
        }
        assert!(hits[0] > 8_500 && hits[1] > 700 && hits[2] == 0, "{hits:?}");
    }

    #[test]
    fn normal_has_unit_variance() {
        let mut rng = Rng::new(5);
        let n = 100_000;
        let samples: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = samples.iter().sum::<f64>() / f64::from(n);
        let var = samples.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / f64::from(n);
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((var - 1.0).abs() < 0.03, "{var}");
    }

    #[test]
    fn portable_exp_matches_std() {
        for i in -2000..=2000 {
            let x = f64::from(i) / 100.0;
            let (ours, std) = (exp(x), x.exp());
            assert!(((ours - std) / std).abs() < 1e-14, "{x}: {ours} vs {std}");
        }
    }

    #[test]
    fn log_normal_is_clamped() {
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            let v = rng.log_normal(100.0, 3.0, 10.0, 1000.0);
            assert!((10.0..=1000.0).contains(&v));
        }
    }
}
