//! Named formats (data, with their sources) and the grammar for every other format.

use super::{Format, MAX_EXP_BITS, Specials, default_bias};
use crate::error::{Error, Result};

/// The accepted spellings, shown with every format-name error.
pub const NAME_GRAMMAR: &str = "\
accepted format names (case-insensitive):
  named:   binary16|fp16|half, bfloat16|bf16, tf32, binary32|fp32|single,
           binary64|fp64|double, binary128|fp128|quad, e4m3 (= e4m3fn), e5m2, e4m3fnuz,
           e5m2fnuz, e4m3b11fnuz, e3m4, e2m3, e3m2, e2m1, e8m0, ue4m3, ue5m3, ue5m3fn,
           binary8p1 .. binary8p7
  generic: [u]e<E>m<M>[b<BIAS>][ieee|fn|fnuz|fin|p3109][ftz|nz]
           u = unsigned; b = bias (default 2^(E-1)-1, one more for fnuz/p3109);
           ieee = Inf/NaN in the top exponent (default); fn = no Inf, all-ones NaN;
           fnuz = no Inf, no -0, NaN = sign bit only; fin = no specials at all;
           ftz = no subnormals; nz = no zero (exponent field 0 is a normal binade);
           1 <= E <= 20, sign + E + M <= 128; e.g. e11m10, e5m2fnuz, ue5m3fn, e4m3b11fnuz
  P3109:   binary<K>p<P> or p3109:<K>p<P> with 1 <= P < K <= 128, e.g. binary8p3
run `anyfloat formats` for the table of named formats";

/// A registered format: its names (the first is canonical), definition and source.
#[derive(Clone, Copy, Debug)]
pub struct NamedFormat {
    /// Accepted names; the first is the one printed.
    pub names: &'static [&'static str],
    /// Where the definition comes from.
    pub source: &'static str,
    exp_bits: u32,
    man_bits: u32,
    bias: i32,
    signed: bool,
    has_zero: bool,
    specials: Specials,
}

impl NamedFormat {
    /// The format this entry describes.
    pub fn format(&self) -> Format {
        Format::new(
            self.exp_bits,
            self.man_bits,
            self.bias,
            self.signed,
            self.has_zero,
            self.has_zero,
            self.specials,
        )
        .expect("every registered format is valid (checked by the named_formats test)")
    }
}

const fn named(
    names: &'static [&'static str],
    exp_bits: u32,
    man_bits: u32,
    bias: i32,
    specials: Specials,
    source: &'static str,
) -> NamedFormat {
    NamedFormat {
        names,
        source,
        exp_bits,
        man_bits,
        bias,
        signed: true,
        has_zero: true,
        specials,
    }
}

const fn unsigned(mut f: NamedFormat) -> NamedFormat {
    f.signed = false;
    f
}

use Specials::{Finite, FiniteNan, Fnuz, Ieee, P3109};

const IEEE754: &str = "IEEE 754-2019, table 3.5";
const OCP_OFP8: &str = "OCP 8-bit Floating Point Specification (OFP8) rev 1.0, table 1";
const OCP_MX: &str = "OCP Microscaling Formats (MX) Specification v1.0, section 5";
const P3109_V3: &str = "IEEE P3109 interim report v3: binary8pP, bias 2^(8-P-1)";

/// Every registered format. Names are matched case-insensitively.
pub static NAMED_FORMATS: &[NamedFormat] = &[
    named(&["binary16", "fp16", "half"], 5, 10, 15, Ieee, IEEE754),
    named(
        &["bfloat16", "bf16"],
        8,
        7,
        127,
        Ieee,
        "Google bfloat16 (binary32 with 7 mantissa bits)",
    ),
    named(
        &["tf32"],
        8,
        10,
        127,
        Ieee,
        "NVIDIA TensorFloat-32 (A100 whitepaper), 19 bits",
    ),
    named(&["binary32", "fp32", "single"], 8, 23, 127, Ieee, IEEE754),
    named(&["binary64", "fp64", "double"], 11, 52, 1023, Ieee, IEEE754),
    named(
        &["binary128", "fp128", "quad"],
        15,
        112,
        16383,
        Ieee,
        IEEE754,
    ),
    named(&["e4m3", "e4m3fn"], 4, 3, 7, FiniteNan, OCP_OFP8),
    named(&["e5m2"], 5, 2, 15, Ieee, OCP_OFP8),
    named(
        &["e4m3fnuz"],
        4,
        3,
        8,
        Fnuz,
        "ml_dtypes float8_e4m3fnuz (Graphcore/AMD), bias 8",
    ),
    named(
        &["e5m2fnuz"],
        5,
        2,
        16,
        Fnuz,
        "ml_dtypes float8_e5m2fnuz (Graphcore/AMD), bias 16",
    ),
    named(
        &["e4m3b11fnuz"],
        4,
        3,
        11,
        Fnuz,
        "ml_dtypes float8_e4m3b11fnuz, bias 11",
    ),
    named(
        &["e3m4"],
        3,
        4,
        3,
        Ieee,
        "ml_dtypes float8_e3m4 (IEEE-like)",
    ),
    named(&["e2m3"], 2, 3, 1, Finite, OCP_MX),
    named(&["e3m2"], 3, 2, 3, Finite, OCP_MX),
    named(&["e2m1"], 2, 1, 1, Finite, OCP_MX),
    NamedFormat {
        has_zero: false,
        ..unsigned(named(&["e8m0"], 8, 0, 127, FiniteNan, OCP_MX))
    },
    unsigned(named(
        &["ue4m3"],
        4,
        3,
        7,
        FiniteNan,
        "NVIDIA NVFP4 block scale: E4M3 without sign",
    )),
    unsigned(named(
        &["ue5m3"],
        5,
        3,
        15,
        Ieee,
        "Graphcore FP4 training study: unsigned E5M3, top exponent reserved",
    )),
    unsigned(named(
        &["ue5m3fn"],
        5,
        3,
        15,
        FiniteNan,
        "unsigned E5M3 without Inf, 0xFF NaN (NVIDIA/AMD style)",
    )),
    named(&["binary8p1"], 7, 0, 64, P3109, P3109_V3),
    named(&["binary8p2"], 6, 1, 32, P3109, P3109_V3),
    named(&["binary8p3"], 5, 2, 16, P3109, P3109_V3),
    named(&["binary8p4"], 4, 3, 8, P3109, P3109_V3),
    named(&["binary8p5"], 3, 4, 4, P3109, P3109_V3),
    named(&["binary8p6"], 2, 5, 2, P3109, P3109_V3),
    named(&["binary8p7"], 1, 6, 1, P3109, P3109_V3),
];

/// The canonical registered name of a format, if it has one.
pub fn name_of(fmt: &Format) -> Option<&'static str> {
    NAMED_FORMATS
        .iter()
        .find(|n| n.format() == *fmt)
        .map(|n| n.names[0])
}

/// Parses a format name: a registered name, a P3109 name, or the generic grammar.
pub fn parse(input: &str) -> Result<Format> {
    let name = input.trim().to_ascii_lowercase();
    let fail = |reason: &str| Error::Format {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() {
        return Err(fail("the name is empty"));
    }
    if let Some(n) = NAMED_FORMATS
        .iter()
        .find(|n| n.names.contains(&name.as_str()))
    {
        return Ok(n.format());
    }
    if let Some(rest) = name
        .strip_prefix("p3109:")
        .or_else(|| name.strip_prefix("binary").filter(|r| r.contains('p')))
    {
        return parse_p3109(rest).map_err(|reason| fail(&reason));
    }
    parse_generic(&name).map_err(|reason| fail(&reason))
}

/// `<K>p<P>`: a P3109 format of K bits and precision P.
fn parse_p3109(rest: &str) -> std::result::Result<Format, String> {
    let (k, p) = rest
        .split_once('p')
        .ok_or_else(|| "a P3109 name is binary<K>p<P>, e.g. binary8p3".to_string())?;
    let k: u32 = number(k, "K (total bits)")?;
    let p: u32 = number(p, "P (precision)")?;
    if !(1..k).contains(&p) || k > 128 {
        return Err(format!(
            "P3109 needs 1 <= P < K <= 128, got K = {k}, P = {p}"
        ));
    }
    let (e, m) = (k - p, p - 1);
    Format::new(e, m, default_bias(e, P3109), true, true, true, P3109).map_err(reason_of)
}

/// `[u]e<E>m<M>[b<BIAS>][ieee|fn|fnuz|fin|p3109][ftz|nz]`.
fn parse_generic(name: &str) -> std::result::Result<Format, String> {
    let (signed, rest) = match name.strip_prefix('u') {
        Some(r) => (false, r),
        None => (true, name),
    };
    let rest = rest.strip_prefix('e').ok_or_else(|| {
        "not a registered name, and a generic name starts with e<E>m<M> (or ue<E>m<M>)".to_string()
    })?;
    let (e_text, rest) = split_digits(rest);
    let exp_bits: u32 = number(e_text, "the exponent width E after 'e'")?;
    let rest = rest
        .strip_prefix('m')
        .ok_or_else(|| format!("expected 'm<M>' after 'e{e_text}'"))?;
    let (m_text, mut rest) = split_digits(rest);
    let man_bits: u32 = number(m_text, "the mantissa width M after 'm'")?;
    if exp_bits == 0 || exp_bits > MAX_EXP_BITS {
        return Err(format!(
            "the exponent width must be 1 to {MAX_EXP_BITS} bits, not {exp_bits}"
        ));
    }
    if signed as u64 + exp_bits as u64 + man_bits as u64 > 128 {
        return Err(format!(
            "sign + E + M = {} bits; at most 128 are supported",
            signed as u64 + exp_bits as u64 + man_bits as u64
        ));
    }

    let mut bias = None;
    let mut specials = None;
    let (mut subnormals, mut has_zero) = (true, true);
    while !rest.is_empty() {
        rest = rest.trim_start_matches(['-', '_']);
        if let Some(r) = rest.strip_prefix('b') {
            let (neg, r) = match r.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, r),
            };
            let (digits, r) = split_digits(r);
            let b: i32 = number(digits, "the bias after 'b'")?;
            bias = Some(if neg { -b } else { b });
            rest = r;
            continue;
        }
        // Longest tokens first: "fnuz" before "fn", "fin" is distinct from both.
        let tokens: [(&str, Option<Specials>); 7] = [
            ("fnuz", Some(Fnuz)),
            ("fn", Some(FiniteNan)),
            ("fin", Some(Finite)),
            ("ieee", Some(Ieee)),
            ("p3109", Some(P3109)),
            ("ftz", None),
            ("nz", None),
        ];
        let Some((token, kind)) = tokens.iter().find(|(t, _)| rest.starts_with(t)) else {
            return Err(format!(
                "unknown suffix {rest:?}; expected b<BIAS>, ieee, fn, fnuz, fin, p3109, ftz or nz"
            ));
        };
        match (kind, *token) {
            (Some(s), _) if specials.is_some() => {
                return Err(format!(
                    "two special-value encodings given ({s:?} and another)"
                ));
            }
            (Some(s), _) => specials = Some(*s),
            (None, "ftz") => subnormals = false,
            (None, _) => {
                has_zero = false;
                subnormals = false;
            }
        }
        rest = &rest[token.len()..];
    }
    let specials = specials.unwrap_or(Ieee);
    let bias = bias.unwrap_or_else(|| default_bias(exp_bits, specials));
    Format::new(
        exp_bits, man_bits, bias, signed, subnormals, has_zero, specials,
    )
    .map_err(reason_of)
}

fn split_digits(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.split_at(end)
}

fn number<T: std::str::FromStr>(digits: &str, what: &str) -> std::result::Result<T, String> {
    if digits.is_empty() {
        return Err(format!("expected {what}"));
    }
    digits
        .parse()
        .map_err(|_| format!("{what} = {digits} is too large"))
}

fn reason_of(e: Error) -> String {
    match e {
        Error::Format { reason, .. } => reason,
        other => other.to_string(),
    }
}
