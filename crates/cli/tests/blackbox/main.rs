//! Black-box tests: the real `signpost` binary, a real HTTP server on 127.0.0.1, real clients and
//! real validators.

mod autodiscover_json;
mod autodiscover_xml;
mod cli;
mod harness;
mod overrides;
