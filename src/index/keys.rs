//! The only place that knows index byte layouts. Every key starts with a tag
//! byte naming its logical tree (all trees share one sled tree so one batch is
//! atomic across them); the rest is an order-preserving encoding, so byte order
//! equals tuple order and every "by X" question is a prefix or range scan.
//!
//! | tag  | tree      | key after the tag                      | value                     |
//! |------|-----------|----------------------------------------|---------------------------|
//! | 0x01 | META      | name bytes                              | u64 BE                    |
//! | 0x02 | TERM      | term (see [`term`])                     | term id u64 BE            |
//! | 0x03 | TERM_OF   | term id u64                             | term bytes                |
//! | 0x04 | ENT       | entity id u64, tx u64                   | codec(Entity) at that tx  |
//! | 0x05 | NAME      | folded name str, entity id u64, tx u64  | 1 = has name, 0 = dropped |
//! | 0x06 | MERGE     | from id u64, tx u64                     | into id u64 (0 = unmerge) |
//! | 0x07 | MEMBER    | into id u64, from id u64, tx u64        | 1 = merged, 0 = unmerged  |
//! | 0x08 | PRED      | predicate id u64, tx u64                | codec(Predicate)          |
//! | 0x09 | CLAIM     | claim seq u64 / 32 (a block of 32 seqs) | claim block (see [`super::claim_block`]) |
//! | 0x0A | CLAIM_ID  | claim id str (only ids not of the form `c<seq>`) | claim seq u64 BE |
//! | 0x0B | KIND      | kind str, entity id u64, tx u64         | 1 / 0                     |
//! | 0x0C | PUB       | published day i32, doc id u64, tx u64   | 1 / 0                     |
//! | 0x10 | SPO       | s u64, p u64, first seq u64             | postings                  |
//! | 0x11 | OPS       | o u64, p u64, first seq u64             | postings                  |
//! | 0x12 | PSO       | p u64, first seq u64                    | postings                  |
//! | 0x13 | BY        | speaker u64, first seq u64              | postings                  |
//! | 0x14 | SRC       | document u64, first seq u64             | postings                  |
//! | 0x20 | TX        | tx u64                                  | codec(TxMeta)             |
//! | 0x21 | TX_TIME   | recorded-at µs i64, tx u64              | empty                     |
//!
//! Encodings: unsigned integers big-endian; signed integers big-endian with the
//! sign bit flipped; floats by their total-order bits; strings with `0x00`
//! escaped as `0x00 0xFF` and terminated by `0x00 0x01`, so no encoded string is
//! a prefix of another and order is preserved. A posting block holds the
//! postings of one prefix that one index batch added, in seq order, and is keyed
//! by the first seq it holds; blocks are never appended to by a later batch.
//!
//! Tag 0x15 held formats 1 and 2's postings by valid-from day, which no query
//! read; it stays unused so an old index is never misread.

use crate::model::{Date, Term};

pub const META: u8 = 0x01;
pub const TERM: u8 = 0x02;
pub const TERM_OF: u8 = 0x03;
pub const ENT: u8 = 0x04;
pub const NAME: u8 = 0x05;
pub const MERGE: u8 = 0x06;
pub const MEMBER: u8 = 0x07;
pub const PRED: u8 = 0x08;
pub const CLAIM: u8 = 0x09;
pub const CLAIM_ID: u8 = 0x0A;
pub const KIND: u8 = 0x0B;
pub const PUB: u8 = 0x0C;
pub const SPO: u8 = 0x10;
pub const OPS: u8 = 0x11;
pub const PSO: u8 = 0x12;
pub const BY: u8 = 0x13;
pub const SRC: u8 = 0x14;
pub const TX: u8 = 0x20;
pub const TX_TIME: u8 = 0x21;

/// Term tags inside TERM keys.
pub const TERM_ENTITY: u8 = 0x01;
pub const TERM_PREDICATE: u8 = 0x02;
pub const TERM_STRING: u8 = 0x10;
pub const TERM_INT: u8 = 0x11;
pub const TERM_FLOAT: u8 = 0x12;
pub const TERM_BOOL: u8 = 0x13;
pub const TERM_DATE: u8 = 0x14;

/// A key under construction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Key(pub Vec<u8>);

impl Key {
    /// A key in the tree named by `tag`.
    pub fn new(tag: u8) -> Key {
        Key(vec![tag])
    }
    pub fn u64(mut self, v: u64) -> Key {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn i64(mut self, v: i64) -> Key {
        self.0.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
        self
    }
    pub fn i32(mut self, v: i32) -> Key {
        self.0.extend_from_slice(&((v as u32) ^ (1 << 31)).to_be_bytes());
        self
    }
    pub fn f64(mut self, v: f64) -> Key {
        let bits = v.to_bits();
        let ordered = if bits >> 63 == 1 { !bits } else { bits | (1 << 63) };
        self.0.extend_from_slice(&ordered.to_be_bytes());
        self
    }
    pub fn str(mut self, s: &str) -> Key {
        for &b in s.as_bytes() {
            self.0.push(b);
            if b == 0 {
                self.0.push(0xFF);
            }
        }
        self.0.extend_from_slice(&[0x00, 0x01]);
        self
    }
    pub fn byte(mut self, b: u8) -> Key {
        self.0.push(b);
        self
    }
    pub fn bytes(mut self, b: &[u8]) -> Key {
        self.0.extend_from_slice(b);
        self
    }
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

/// The interning key of an entity key.
pub fn entity_term(key: &str) -> Vec<u8> {
    Key::new(TERM).byte(TERM_ENTITY).str(key).into_vec()
}

/// The interning key of a predicate name.
pub fn predicate_term(name: &str) -> Vec<u8> {
    Key::new(TERM).byte(TERM_PREDICATE).str(name).into_vec()
}

/// The interning key of a claim object or qualifier value.
pub fn term(t: &Term) -> Vec<u8> {
    let k = Key::new(TERM);
    match t {
        Term::Entity(key) => return entity_term(key),
        Term::String(s) => k.byte(TERM_STRING).str(s),
        Term::Int(i) => k.byte(TERM_INT).i64(*i),
        // -0.0 and 0.0 are one value to `Term`'s equality, so they must be one key.
        Term::Float(x) => k.byte(TERM_FLOAT).f64(if *x == 0.0 { 0.0 } else { *x }),
        Term::Bool(b) => k.byte(TERM_BOOL).byte(*b as u8),
        Term::Date(d) => k.byte(TERM_DATE).i32(d.packed()),
    }
    .into_vec()
}

/// Decodes the bytes written by [`term`] (without the TERM tag): `(tag, term)`.
pub fn decode_term(bytes: &[u8]) -> Option<Term> {
    let (&tag, rest) = bytes.split_first()?;
    let t = match tag {
        TERM_ENTITY => Term::Entity(Reader(rest).str()?),
        TERM_PREDICATE => Term::String(Reader(rest).str()?),
        TERM_STRING => Term::String(Reader(rest).str()?),
        TERM_INT => Term::Int(Reader(rest).i64()?),
        TERM_FLOAT => Term::Float(Reader(rest).f64()?),
        TERM_BOOL => Term::Bool(*rest.first()? != 0),
        TERM_DATE => Term::Date(Date::from_packed(Reader(rest).i32()?).ok()?),
        _ => return None,
    };
    Some(t)
}

/// Reads back the fields of an encoded key, in order.
pub struct Reader<'a>(pub &'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_at_checked(N)?;
        self.0 = rest;
        head.try_into().ok()
    }
    pub fn u64(&mut self) -> Option<u64> {
        self.take::<8>().map(u64::from_be_bytes)
    }
    pub fn i64(&mut self) -> Option<i64> {
        self.u64().map(|v| (v ^ (1 << 63)) as i64)
    }
    pub fn i32(&mut self) -> Option<i32> {
        self.take::<4>().map(|b| (u32::from_be_bytes(b) ^ (1 << 31)) as i32)
    }
    pub fn f64(&mut self) -> Option<f64> {
        let v = self.u64()?;
        Some(f64::from_bits(if v >> 63 == 1 { v & !(1 << 63) } else { !v }))
    }
    pub fn byte(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    pub fn str(&mut self) -> Option<String> {
        let mut out = Vec::new();
        let mut i = 0;
        loop {
            match (self.0.get(i)?, self.0.get(i + 1)) {
                (0, Some(0x01)) => break,
                (0, Some(0xFF)) => {
                    out.push(0);
                    i += 2;
                }
                (0, _) => return None,
                (&b, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        self.0 = &self.0[i + 2..];
        String::from_utf8(out).ok()
    }
}

/// The smallest key greater than every key starting with `prefix`, if any.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone, PartialEq, PartialOrd)]
    enum Field {
        U(u64),
        I(i64),
        S(String),
    }

    fn encode(fields: &[Field]) -> Vec<u8> {
        fields
            .iter()
            .fold(Key::new(0x42), |k, f| match f {
                Field::U(v) => k.u64(*v),
                Field::I(v) => k.i64(*v),
                Field::S(v) => k.str(v),
            })
            .into_vec()
    }

    fn field() -> impl Strategy<Value = Field> {
        prop_oneof![
            any::<u64>().prop_map(Field::U),
            any::<i64>().prop_map(Field::I),
            "[\\x00-\\x02a-c\\xff]{0,6}".prop_map(Field::S),
        ]
    }

    /// Tuples of the same shape (kinds in the same positions).
    fn pair() -> impl Strategy<Value = (Vec<Field>, Vec<Field>)> {
        prop::collection::vec(0u8..3, 1..5).prop_flat_map(|shape| {
            let one = |shape: Vec<u8>| {
                shape
                    .into_iter()
                    .map(|k| match k {
                        0 => any::<u64>().prop_map(Field::U).boxed(),
                        1 => any::<i64>().prop_map(Field::I).boxed(),
                        _ => "[\\x00-\\x02a-c]{0,6}".prop_map(Field::S).boxed(),
                    })
                    .collect::<Vec<_>>()
            };
            (one(shape.clone()), one(shape))
        })
    }

    proptest! {
        #[test]
        fn order_is_preserved((a, b) in pair()) {
            let (ka, kb) = (encode(&a), encode(&b));
            let by_fields = a.partial_cmp(&b).unwrap();
            let by_bytes = ka.cmp(&kb);
            // Strings compare as byte strings, which is what Rust's String order is.
            prop_assert_eq!(by_fields, by_bytes);
        }

        #[test]
        fn fields_read_back(a in prop::collection::vec(field(), 0..5)) {
            let k = encode(&a);
            let mut r = Reader(&k[1..]);
            for f in &a {
                let back = match f {
                    Field::U(_) => Field::U(r.u64().unwrap()),
                    Field::I(_) => Field::I(r.i64().unwrap()),
                    Field::S(_) => Field::S(r.str().unwrap()),
                };
                prop_assert_eq!(&back, f);
            }
            prop_assert!(r.0.is_empty());
        }

        #[test]
        fn floats_and_dates_keep_order(a in any::<f64>(), b in any::<f64>()) {
            prop_assume!(!a.is_nan() && !b.is_nan() && a != b);
            let (ka, kb) = (Key::new(0).f64(a).into_vec(), Key::new(0).f64(b).into_vec());
            prop_assert_eq!(a < b, ka < kb);
            prop_assert_eq!(Reader(&ka[1..]).f64().unwrap(), a);
        }
    }

    #[test]
    fn no_string_key_is_a_prefix_of_another() {
        let a = Key::new(1).str("ab").into_vec();
        let b = Key::new(1).str("abc").into_vec();
        assert!(!b.starts_with(&a));
        let c = Key::new(1).str("a\0b").into_vec();
        assert_eq!(Reader(&c[1..]).str().unwrap(), "a\0b");
    }

    #[test]
    fn terms_round_trip() {
        for t in [
            Term::Entity("russia".into()),
            Term::String("x\0y".into()),
            Term::Int(-5),
            Term::Float(2.5),
            Term::Bool(true),
            Term::Date("2025-02".parse().unwrap()),
        ] {
            let k = term(&t);
            assert_eq!(decode_term(&k[1..]).unwrap(), t);
        }
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF]), None);
    }
}
