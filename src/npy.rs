//! NumPy `.npy` files of f32 or f64, any shape, either byte order, and unsigned integer codes
//! written out: enough for numpy users to round and quantise arrays without writing Rust.

use crate::error::{Error, Result};

/// Element type of an array file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// `<f4` / `>f4`.
    F32,
    /// `<f8` / `>f8`.
    F64,
}

/// An array read from a `.npy` file, widened to f64 (exactly), with what is needed to write it
/// back the same way.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// The values in file order.
    pub data: Vec<f64>,
    /// The shape.
    pub shape: Vec<usize>,
    /// Whether the file stores the array in Fortran (column-major) order.
    pub fortran_order: bool,
    /// The element type in the file.
    pub dtype: Dtype,
}

/// Parses the bytes of a `.npy` file (`origin` names it in errors).
pub fn read(bytes: &[u8], origin: &str) -> Result<Array> {
    let fail = |what: String| Error::Invalid(format!("{origin}: not a readable .npy file: {what}"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(fail("missing the \\x93NUMPY magic".into()));
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(fail("truncated header".into()));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(fail(format!("format version {v} is not supported"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| fail("truncated or non-UTF-8 header".into()))?;
    let descr =
        dict_value(header, "descr").ok_or_else(|| fail("no 'descr' in the header".into()))?;
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"');
    let (dtype, big_endian) = match descr {
        "<f8" | "=f8" | "f8" => (Dtype::F64, false),
        ">f8" => (Dtype::F64, true),
        "<f4" | "=f4" | "f4" => (Dtype::F32, false),
        ">f4" => (Dtype::F32, true),
        other => {
            return Err(fail(format!(
                "dtype {other} is not f32 or f64 (convert with arr.astype('f8'))"
            )));
        }
    };
    let fortran_order = dict_value(header, "fortran_order").is_some_and(|v| v.trim() == "True");
    let shape_text =
        dict_value(header, "shape").ok_or_else(|| fail("no 'shape' in the header".into()))?;
    let shape = shape_text
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| fail(format!("bad shape {shape_text}")))
        })
        .collect::<Result<Vec<usize>>>()?;
    let count: usize = shape.iter().product();
    let body = &bytes[start + header_len..];
    let width = if dtype == Dtype::F64 { 8 } else { 4 };
    if body.len() != count * width {
        return Err(fail(format!(
            "shape {shape:?} needs {} bytes of data, found {}",
            count * width,
            body.len()
        )));
    }
    let data = body
        .chunks_exact(width)
        .map(|c| match (dtype, big_endian) {
            (Dtype::F64, false) => f64::from_le_bytes(c.try_into().expect("8 bytes")),
            (Dtype::F64, true) => f64::from_be_bytes(c.try_into().expect("8 bytes")),
            (Dtype::F32, false) => f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64,
            (Dtype::F32, true) => f32::from_be_bytes(c.try_into().expect("4 bytes")) as f64,
        })
        .collect();
    Ok(Array {
        data,
        shape,
        fortran_order,
        dtype,
    })
}

/// The value text after `'key':` in a header dict, up to the next top-level comma or brace.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[at + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?;
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    None
}

/// The bytes of a `.npy` file (version 1.0, little-endian) holding `data` with `shape`.
/// With `Dtype::F32` every value must already be an f32 value (it is narrowed exactly).
pub fn write(data: &[f64], shape: &[usize], fortran_order: bool, dtype: Dtype) -> Vec<u8> {
    let (descr, width) = if dtype == Dtype::F64 {
        ("<f8", 8)
    } else {
        ("<f4", 4)
    };
    let mut out = header(descr, shape, fortran_order, data.len() * width);
    for &x in data {
        match dtype {
            Dtype::F64 => out.extend_from_slice(&x.to_le_bytes()),
            Dtype::F32 => out.extend_from_slice(&(x as f32).to_le_bytes()),
        }
    }
    out
}

/// The bytes of a `.npy` file (version 1.0, C order) holding `codes` with `shape` as unsigned
/// integers of `bytes` bytes each (1, 2, 4 or 8: `<u1` … `<u8`); each code must fit.
pub fn write_unsigned(codes: &[u64], shape: &[usize], bytes: usize) -> Vec<u8> {
    debug_assert!(matches!(bytes, 1 | 2 | 4 | 8));
    let mut out = header(&format!("<u{bytes}"), shape, false, codes.len() * bytes);
    for &c in codes {
        out.extend_from_slice(&c.to_le_bytes()[..bytes]);
    }
    out
}

/// A `.npy` file's magic, version 1.0 and header for an array of `descr` with `shape`, with
/// room for `data_len` bytes of data after it.
fn header(descr: &str, shape: &[usize], fortran_order: bool, data_len: usize) -> Vec<u8> {
    let shape_text = match shape {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let order = if fortran_order { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape_text}, }}");
    // Pad so that the data starts at a multiple of 64 bytes, header ending in '\n'.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data_len);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_unsigned_codes_of_every_width() {
        for (bytes, descr) in [(1, "<u1"), (2, "<u2"), (4, "<u4"), (8, "<u8")] {
            let max = u64::MAX >> (64 - 8 * bytes);
            let codes = [0, 1, max / 3, max];
            let out = write_unsigned(&codes, &[2, 2], bytes);
            let len = u16::from_le_bytes([out[8], out[9]]) as usize;
            let header = std::str::from_utf8(&out[10..10 + len]).unwrap();
            assert!(header.contains(&format!("'descr': '{descr}'")), "{header}");
            assert!(header.contains("'shape': (2, 2)") && header.ends_with('\n'));
            assert_eq!((10 + len) % 64, 0);
            let data: Vec<u64> = out[10 + len..]
                .chunks(bytes)
                .map(|c| c.iter().rev().fold(0, |v, &b| v << 8 | b as u64))
                .collect();
            assert_eq!(data, codes);
        }
    }

    #[test]
    fn round_trips_both_dtypes_and_shapes() {
        for (shape, fortran) in [(vec![5], false), (vec![2, 3], true), (vec![], false)] {
            let n: usize = shape.iter().product();
            let data: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 - 1.0).collect();
            for dtype in [Dtype::F64, Dtype::F32] {
                let bytes = write(&data, &shape, fortran, dtype);
                assert_eq!(
                    (bytes.len() - data.len() * if dtype == Dtype::F64 { 8 } else { 4 }) % 64,
                    0
                );
                let a = read(&bytes, "test").unwrap();
                assert_eq!(
                    (a.data, a.shape.clone(), a.fortran_order, a.dtype),
                    (data.clone(), shape.clone(), fortran, dtype)
                );
            }
        }
    }

    #[test]
    fn reads_a_file_written_by_numpy() {
        // np.save of np.array([1.5, -2.0], dtype='>f4'), header as numpy 1.26 writes it.
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let header = "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }";
        let padded = format!("{header}{}\n", " ".repeat(128 - 10 - header.len() - 1));
        bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        bytes.extend_from_slice(padded.as_bytes());
        bytes.extend_from_slice(&1.5f32.to_be_bytes());
        bytes.extend_from_slice(&(-2.0f32).to_be_bytes());
        let a = read(&bytes, "x.npy").unwrap();
        assert_eq!(a.data, [1.5, -2.0]);
        assert_eq!(a.dtype, Dtype::F32);
    }

    #[test]
    fn rejects_what_it_cannot_read_with_a_reason() {
        let e = read(b"not numpy", "a.npy").unwrap_err().to_string();
        assert!(e.contains("a.npy") && e.contains("magic"), "{e}");
        let mut bytes = write(&[1.0], &[1], false, Dtype::F64);
        bytes.truncate(bytes.len() - 1);
        assert!(
            read(&bytes, "b.npy")
                .unwrap_err()
                .to_string()
                .contains("needs 8 bytes")
        );
        let ints = write(&[1.0], &[1], false, Dtype::F64)
            .iter()
            .map(|&b| if b == b'f' { b'i' } else { b })
            .collect::<Vec<u8>>();
        assert!(
            read(&ints, "c.npy")
                .unwrap_err()
                .to_string()
                .contains("dtype <i8 is not f32 or f64")
        );
    }
}
