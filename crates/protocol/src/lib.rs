//! Wire formats of every mail client Signpost answers.
//!
//! Each module parses one kind of request or writes one kind of answer from a plain value.
//! Nothing here does I/O, and every value that reaches a writer is escaped by that writer.

pub mod autoconfig;
pub mod autodiscover_v2;
pub mod html;
pub mod mobileconfig;
pub mod override_template;
pub mod pacc;
pub mod placeholders;
pub mod plist;
pub mod pox;
pub mod proxy_protocol;
pub mod xml_reader;
pub mod xml_writer;
