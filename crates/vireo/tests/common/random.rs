//! What the seeded random differential tests (`random_*.rs`) share: the generator and the
//! environment variables that replay or lengthen a run.
//!
//! - `VIREO_RANDOM_SEEDS`: seeds and ranges separated by commas (`7`, `1-200`, `3,9-12`);
//! - `VIREO_RANDOM_STEPS`: steps per seed;
//! - `VIREO_RANDOM_HISTORY`: steps shown when a difference is found.

/// splitmix64: a few lines, deterministic, good enough to pick commands.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` percent.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// 0..=max distinct items of `items`, in random order.
    pub fn some<'a>(&mut self, items: &[&'a str], max: usize) -> Vec<&'a str> {
        let n = self.below(max + 1);
        let mut pool = items.to_vec();
        (0..n.min(pool.len()))
            .map(|_| pool.remove(self.below(pool.len())))
            .collect()
    }
}

/// `VIREO_RANDOM_SEEDS`, or `default`.
pub fn seeds(default: &[u64]) -> Vec<u64> {
    let Ok(spec) = std::env::var("VIREO_RANDOM_SEEDS") else {
        return default.to_vec();
    };
    let number = |n: &str| -> u64 {
        n.trim()
            .parse()
            .unwrap_or_else(|_| panic!("VIREO_RANDOM_SEEDS: {n:?} is not a seed"))
    };
    let mut seeds = Vec::new();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => seeds.extend(number(from)..=number(to)),
            None => seeds.push(number(part)),
        }
    }
    seeds
}

/// `VIREO_RANDOM_STEPS`, or `default`.
pub fn steps(default: usize) -> usize {
    number_from_env("VIREO_RANDOM_STEPS").unwrap_or(default)
}

/// `VIREO_RANDOM_HISTORY`, or `default`.
pub fn history(default: usize) -> usize {
    number_from_env("VIREO_RANDOM_HISTORY").unwrap_or(default)
}

fn number_from_env(name: &str) -> Option<usize> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {value:?} is not a number")),
    )
}
