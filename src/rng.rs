//! Counter-based random streams: every random word is a pure function of (key, position).
//!
//! The generator is SplitMix64 addressed by position: word `i` of the stream with key `k` is
//! `mix(k + (i + 1)·γ)`, two multiplies. Because a word depends only on where it is used, never
//! on what ran before it, results are the same for any thread count, chunking or sharding.

/// A source of uniformly distributed 64-bit words for stochastic rounding.
pub trait RandomSource {
    /// The next word of the stream.
    fn next_u64(&mut self) -> u64;
}

/// The SplitMix64 increment (odd, so positions map to distinct states).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijection of u64 with full avalanche.
#[inline(always)]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Word `index` of the stream `key`.
#[inline(always)]
pub fn word(key: u64, index: u64) -> u64 {
    mix(state(key, index))
}

/// The state behind word `index` of the stream `key` (the word is `mix(state)`). The state of
/// word `index + j` is [`advance`]`(state, j)`: loops step through a stream with additions
/// instead of one multiply per word.
#[inline(always)]
pub fn state(key: u64, index: u64) -> u64 {
    key.wrapping_add(index.wrapping_add(1).wrapping_mul(GAMMA))
}

/// The state `j` words after `state`.
#[inline(always)]
pub fn advance(state: u64, j: u64) -> u64 {
    state.wrapping_add(j.wrapping_mul(GAMMA))
}

/// A key for the stream at `path` under `seed` (e.g. `[grid point, member]`), so that every
/// piece of work draws from its own stream whatever order the work runs in.
pub fn derive_key(seed: u64, path: &[u64]) -> u64 {
    path.iter()
        .fold(mix(seed ^ 0x6A09_E667_F3BC_C908), |k, &p| {
            mix(k ^ mix(p.wrapping_add(GAMMA)))
        })
}

/// A sequential stream: word 0, 1, 2, … of one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    key: u64,
    position: u64,
}

impl Stream {
    /// The stream of `seed` (equivalent to `Stream::from_key(derive_key(seed, &[]))`).
    pub fn new(seed: u64) -> Stream {
        Stream::from_key(derive_key(seed, &[]))
    }
    /// The stream with the given key, from its start.
    pub fn from_key(key: u64) -> Stream {
        Stream { key, position: 0 }
    }
    /// How many words have been drawn.
    pub fn position(&self) -> u64 {
        self.position
    }
    /// A uniform f64 in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// A standard normal deviate (Box–Muller, one of the pair).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // in (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

impl RandomSource for Stream {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        let w = word(self.key, self.position);
        self.position += 1;
        w
    }
}

/// The random words of one array element: the first is `word(key, index)`, later ones (needed
/// with probability 2^−64 by exact stochastic rounding) come from a sub-stream keyed by it.
#[derive(Clone, Debug)]
pub struct ElementStream {
    first: u64,
    drawn: u64,
}

impl ElementStream {
    /// The stream of element `index` under `key`.
    #[inline]
    pub fn new(key: u64, index: u64) -> ElementStream {
        ElementStream {
            first: word(key, index),
            drawn: 0,
        }
    }

    /// The stream whose first word is `first` (`new(key, index)` is `from_word(word(key,
    /// index))`): for callers that computed the first word themselves.
    #[inline]
    pub fn from_word(first: u64) -> ElementStream {
        ElementStream { first, drawn: 0 }
    }
}

impl RandomSource for ElementStream {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        let w = if self.drawn == 0 {
            self.first
        } else {
            word(self.first, self.drawn - 1)
        };
        self.drawn += 1;
        w
    }
}

/// Replays given words, then zeros: used to check test vectors that record their random bits.
#[derive(Clone, Debug)]
pub struct Replay<'a> {
    words: &'a [u64],
    at: usize,
}

impl<'a> Replay<'a> {
    /// Replays `words` in order.
    pub fn new(words: &'a [u64]) -> Replay<'a> {
        Replay { words, at: 0 }
    }
    /// How many words were consumed.
    pub fn consumed(&self) -> usize {
        self.at
    }
}

impl RandomSource for Replay<'_> {
    fn next_u64(&mut self) -> u64 {
        let w = self.words.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        w
    }
}

/// Records every word drawn from an inner source (so `gen` can print the bits it used).
#[derive(Debug)]
pub struct Recorder<'a, R: RandomSource + ?Sized> {
    inner: &'a mut R,
    /// The words drawn so far.
    pub words: Vec<u64>,
}

impl<'a, R: RandomSource + ?Sized> Recorder<'a, R> {
    /// Wraps `inner`.
    pub fn new(inner: &'a mut R) -> Self {
        Recorder {
            inner,
            words: Vec::new(),
        }
    }
}

impl<R: RandomSource + ?Sized> RandomSource for Recorder<'_, R> {
    fn next_u64(&mut self) -> u64 {
        let w = self.inner.next_u64();
        self.words.push(w);
        w
    }
}

/// A source for deterministic rounding modes, which never draw; if a stochastic mode is used
/// with it anyway, every word is 0, so every inexact result rounds away from zero.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRandom;

impl RandomSource for NoRandom {
    fn next_u64(&mut self) -> u64 {
        0
    }
}
