//! Plain data: dates and valid time, literal values, events, transactions and the
//! entity/predicate/claim states they build, plus the naming rules every layer
//! shares. No I/O lives here.

pub(crate) mod date;
mod event;
mod names;
mod value;

pub use date::{DAY_MAX, DAY_MIN, Date, DateError, DayRange, Precision, Timestamp, ValidTime};
pub use event::{
    AssertEvent, Claim, DOCUMENT_KIND, DocumentEvent, DocumentInfo, Entity, EntityEvent, Event, Hash,
    Predicate, PredicateEvent, Receipt, TxBody, TxRecord,
};
pub use names::{
    check_key, check_predicate, closest, did_you_mean, entity_text, fold_key, fold_name, natural_cmp,
};
pub use value::{Attrs, Stance, Term};
