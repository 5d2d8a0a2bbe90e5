//! Minimal BER/DER TLV reader (and the one writer of an element). We need the exact bytes of some elements (signed attributes,
//! certificates, TBS) because re-encoding decoded values can change them (der sorts SET OF).

/// One element: `tag` is the first identifier octet, `raw` is the whole TLV, `value` the
/// contents (for indefinite lengths, without the end-of-contents octets).
#[derive(Clone, Copy, Debug)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub raw: &'a [u8],
    pub value: &'a [u8],
    pub indefinite: bool,
}

const MAX_DEPTH: usize = 64;

/// Reads one TLV from the start of `input`; returns it and the rest.
pub fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    read_depth(input, 0)
}

fn read_depth(input: &[u8], depth: usize) -> Option<(Tlv<'_>, &[u8])> {
    if depth > MAX_DEPTH {
        return None;
    }
    let tag = *input.first()?;
    // High tag numbers (0x1f) never occur in the structures we walk.
    if tag & 0x1f == 0x1f {
        return None;
    }
    let len_byte = *input.get(1)?;
    let mut pos = 2usize;
    if len_byte == 0x80 {
        // Indefinite length (BER): only for constructed types; children until 00 00.
        if tag & 0x20 == 0 {
            return None;
        }
        let mut rest = input.get(pos..)?;
        loop {
            if rest.len() >= 2 && rest[0] == 0 && rest[1] == 0 {
                let value_end = input.len() - rest.len();
                let end = value_end + 2;
                return Some((
                    Tlv {
                        tag,
                        raw: &input[..end],
                        value: &input[pos..value_end],
                        indefinite: true,
                    },
                    &input[end..],
                ));
            }
            let (_, r) = read_depth(rest, depth + 1)?;
            rest = r;
        }
    }
    let len = if len_byte < 0x80 {
        usize::from(len_byte)
    } else {
        let n = usize::from(len_byte & 0x7f);
        if n > 4 {
            return None;
        }
        let mut l = 0usize;
        for _ in 0..n {
            l = (l << 8) | usize::from(*input.get(pos)?);
            pos += 1;
        }
        l
    };
    let end = pos.checked_add(len)?;
    if end > input.len() {
        return None;
    }
    Some((
        Tlv {
            tag,
            raw: &input[..end],
            value: &input[pos..end],
            indefinite: false,
        },
        &input[end..],
    ))
}

/// All child elements of a constructed value.
pub fn children(mut value: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !value.is_empty() {
        let (t, rest) = read(value)?;
        out.push(t);
        value = rest;
    }
    Some(out)
}

/// One DER element: `tag`, the definite length (short or long form), `content`.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Reads exactly one TLV spanning all of `input`.
pub fn single(input: &[u8]) -> Option<Tlv<'_>> {
    match read(input)? {
        (t, []) => Some(t),
        _ => None,
    }
}
