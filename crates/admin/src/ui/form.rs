//! Posted forms: their fields, and a form answered in place after a failed change (what was
//! typed, and the reason at the field it is about).

use serde::Deserialize;

use crate::error::ApiError;

/// The posted fields of a form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    /// Replaces what field `name` holds (adds it when absent).
    pub fn set(&mut self, name: &str, value: String) {
        match self.0.iter_mut().find(|(key, _)| key == name) {
            Some(field) => field.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }

    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "on" | "1"))
    }
}

/// A form being answered in place: which one (forms on a page have ids), what was typed, and
/// what was wrong. The default is a page shown fresh.
#[derive(Debug, Clone, Default)]
pub struct Form {
    id: String,
    fields: Fields,
    field: Option<String>,
    message: Option<String>,
}

impl Form {
    /// `id`'s fields, refused for `error` (the field it names, when the form has one by that
    /// name, gets the message; otherwise the whole form does).
    pub fn refused(id: &str, fields: Fields, error: impl Into<ApiError>) -> Self {
        let error = error.into();
        Self {
            id: id.to_string(),
            fields,
            field: error.field.map(str::to_string),
            message: Some(error.message),
        }
    }

    /// Whether form `id` is the one answered.
    pub fn is(&self, id: &str) -> bool {
        self.id == id
    }

    /// What form `id`'s field `name` shows: what was typed when it is the form answered, else
    /// `current`.
    pub fn value<'a>(&'a self, id: &str, name: &str, current: &'a str) -> &'a str {
        if self.is(id) {
            self.fields.get(name).unwrap_or(current)
        } else {
            current
        }
    }

    /// Whether form `id`'s checkbox `name` shows ticked.
    pub fn checked(&self, id: &str, name: impl std::fmt::Display, current: &bool) -> bool {
        if self.is(id) {
            self.fields.flag(&name.to_string())
        } else {
            *current
        }
    }

    /// The reason for form `id`'s field `name`, if that field is at fault.
    pub fn error(&self, id: &str, name: &str) -> Option<&str> {
        (self.is(id) && self.field.as_deref() == Some(name))
            .then_some(self.message.as_deref())
            .flatten()
    }

    /// The reason for form `id` when it is not about one of its `fields` (names separated by
    /// spaces; the reason is shown at the form's top).
    pub fn general(&self, id: &str, fields: &str) -> Option<&str> {
        let about_a_field = self
            .field
            .as_deref()
            .is_some_and(|f| fields.split_whitespace().any(|name| name == f));
        (self.is(id) && !about_a_field)
            .then_some(self.message.as_deref())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_form_keeps_what_was_typed_and_places_the_reason() {
        let fields = Fields(vec![
            ("address".into(), "zed@contoso.org".into()),
            ("display_name".into(), "Zed".into()),
        ]);
        let form = Form::refused("add-user", fields, ApiError::invalid("address", "not ours"));
        assert_eq!(form.value("add-user", "display_name", ""), "Zed");
        assert_eq!(form.value("other", "display_name", "kept"), "kept");
        assert_eq!(form.error("add-user", "address"), Some("not ours"));
        assert_eq!(form.error("add-user", "display_name"), None);
        assert_eq!(form.general("add-user", "address password"), None);
        assert_eq!(form.general("add-user", "password"), Some("not ours"));
        assert!(!form.checked("add-user", "admin", &true));
        assert!(form.checked("other", "admin", &true));
        assert_eq!(Form::default().error("add-user", "address"), None);
    }
}
