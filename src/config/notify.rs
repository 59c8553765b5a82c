//! `[[notify]]`: who hears of a run, and when — an email (SMTP), a webhook (a JSON POST, Slack and
//! Mattermost read its `text`) or a command (a template run with `sh -c`, the run's JSON on its
//! stdin). Secrets never stand in the file: a password or a webhook URL that carries a token is
//! named by the environment variable that holds it.
//!
//! ```toml
//! [[notify]]
//! on = ["failure", "fixed"]     # default; also "change", "always"
//! min_failed = 3                # only when at least this many cells failed
//! success_below = 0.9           # only when passed / ran is below this
//! timeout = "20s"               # for everything this entry does, retries included
//! retries = 2
//! report_url = "https://ci.example.com/grids/{{ project }}/{{ run }}.html"
//! email = { to = ["dev@example.com"], from = "gridrun@example.com", server = "smtp.example.com",
//!           user = "gridrun", password_env = "SMTP_PASSWORD" }
//! ```

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::error::{did_you_mean, Span};
use super::load::{template_span, Validator};
use super::schema::Text;
use super::{ConfigError, DurationValue};

/// How long a notification may take, retries included, where the file does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Attempts after the first, where the file does not say.
pub const DEFAULT_RETRIES: u32 = 2;

/// The most retries an entry may ask for: past this, backoff leaves no time for any.
const MAX_RETRIES: i64 = 10;

/// The variables `command` and `report_url` may use.
pub const TEMPLATE_VARIABLES: [&str; 9] =
    ["run", "project", "status", "event", "failed", "passed", "total", "text", "previous_run"];

/// When an entry sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The run failed.
    Failure,
    /// The run passed and the project's previous finished run failed.
    Fixed,
    /// The run's status differs from the previous finished run's.
    Change,
    /// Every finished run.
    Always,
}

impl Trigger {
    /// The words the file uses.
    pub const NAMES: [&'static str; 4] = ["failure", "fixed", "change", "always"];

    /// The word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failure => "failure",
            Self::Fixed => "fixed",
            Self::Change => "change",
            Self::Always => "always",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "failure" => Some(Self::Failure),
            "fixed" => Some(Self::Fixed),
            "change" => Some(Self::Change),
            "always" => Some(Self::Always),
            _ => None,
        }
    }
}

/// One `[[notify]]` entry, validated.
#[derive(Clone, Debug)]
pub struct Notify {
    /// Its line in the file, to name it by.
    pub line: usize,
    /// When it sends (any of them).
    pub on: Vec<Trigger>,
    /// Only when at least this many cells failed.
    pub min_failed: Option<u64>,
    /// Only when passed / ran is below this.
    pub success_below: Option<f64>,
    /// How long everything it does may take, retries included.
    pub timeout: Duration,
    /// Attempts after the first.
    pub retries: u32,
    /// Where the HTML report is published: a template over the run.
    pub report_url: Option<Text>,
    /// Where it sends.
    pub target: Target,
}

/// Where a notification goes.
#[derive(Clone, Debug)]
pub enum Target {
    /// Mail over SMTP.
    Email(Email),
    /// A JSON POST.
    Webhook(Webhook),
    /// A command run with `sh -c`: a template over the run.
    Command(Text),
}

impl Target {
    /// `email`, `webhook`, `command`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Webhook(_) => "webhook",
            Self::Command(_) => "command",
        }
    }
}

/// `email = { … }`.
#[derive(Clone, Debug)]
pub struct Email {
    /// The recipients, each an address lettre parsed (`Name <a@b>` or `a@b`).
    pub to: Vec<String>,
    /// The sender.
    pub from: String,
    /// The SMTP server's host name or address.
    pub server: String,
    /// Its port.
    pub port: u16,
    /// How the connection is secured.
    pub security: Security,
    /// The user to log in as, and the environment variable holding the password.
    pub login: Option<Login>,
    /// Whether the HTML report goes along as an attachment.
    pub attach_report: bool,
}

/// An SMTP login: the password is read from the environment when the mail is sent.
#[derive(Clone, Debug)]
pub struct Login {
    /// The user.
    pub user: String,
    /// The environment variable holding the password.
    pub password_env: String,
}

/// How an SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// Neither: for a relay on loopback, or a test server.
    None,
}

impl Security {
    /// The words the file uses.
    pub const NAMES: [&'static str; 3] = ["starttls", "tls", "none"];

    /// The word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StartTls => "starttls",
            Self::Tls => "tls",
            Self::None => "none",
        }
    }

    /// The port it is usually served on.
    pub fn default_port(self) -> u16 {
        match self {
            Self::StartTls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }
}

/// `webhook = { … }`.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// The URL, or where it is read from.
    pub url: WebhookUrl,
}

/// A webhook's URL: written in the file, or read from the environment when it carries a token.
#[derive(Clone, Debug)]
pub enum WebhookUrl {
    /// `url = "…"`.
    Literal(String),
    /// `url_env = "NAME"`.
    Env(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    on: Option<Spanned<Vec<Spanned<String>>>>,
    min_failed: Option<Spanned<i64>>,
    success_below: Option<Spanned<f64>>,
    timeout: Option<DurationValue>,
    retries: Option<Spanned<i64>>,
    report_url: Option<Spanned<String>>,
    email: Option<Spanned<RawEmail>>,
    webhook: Option<Spanned<RawWebhook>>,
    command: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    to: Spanned<Vec<Spanned<String>>>,
    from: Spanned<String>,
    server: Spanned<String>,
    port: Option<Spanned<i64>>,
    security: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    /// Named so that writing it is an error that says where passwords come from, not "unknown
    /// key".
    password: Option<Spanned<toml::Value>>,
    attach_report: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: Option<Spanned<String>>,
    url_env: Option<Spanned<String>>,
}

impl Validator<'_> {
    pub(super) fn notify(&self, raw: Option<Vec<Spanned<RawNotify>>>) -> Result<Vec<Notify>, ConfigError> {
        raw.unwrap_or_default().into_iter().map(|entry| self.notify_entry(entry)).collect()
    }

    fn notify_entry(&self, entry: Spanned<RawNotify>) -> Result<Notify, ConfigError> {
        let span = entry.span();
        let raw = entry.into_inner();
        // An entry's span starts at its `[[notify]]` header.
        let line = self.file.text.get(..span.start).map_or(1, |before| before.matches('\n').count() + 1);
        let on = match raw.on {
            Some(words) => self.triggers(words)?,
            None => vec![Trigger::Failure, Trigger::Fixed],
        };
        let min_failed =
            match raw.min_failed {
                Some(n) => Some(u64::try_from(*n.get_ref()).ok().filter(|n| *n > 0).ok_or_else(|| {
                    self.file.error(n.span(), "notify.min_failed must be a whole number of at least 1")
                })?),
                None => None,
            };
        let success_below = match raw.success_below {
            Some(f) if !(f.get_ref().is_finite() && *f.get_ref() > 0.0 && *f.get_ref() <= 1.0) => {
                return Err(self
                    .file
                    .error(f.span(), "notify.success_below must be a fraction above 0 and at most 1 (0.9 is 90 %)"));
            }
            Some(f) => Some(f.into_inner()),
            None => None,
        };
        let retries = match raw.retries {
            Some(n) => u32::try_from(*n.get_ref()).ok().filter(|n| i64::from(*n) <= MAX_RETRIES).ok_or_else(|| {
                self.file.error(n.span(), format!("notify.retries must be a whole number from 0 to {MAX_RETRIES}"))
            })?,
            None => DEFAULT_RETRIES,
        };
        let report_url = raw.report_url.map(|u| self.text(u, "notify.report_url")).transpose()?;
        if let Some(url) = &report_url {
            self.notify_template(url, "notify.report_url")?;
        }
        let mut targets = Vec::new();
        if let Some(email) = raw.email {
            targets.push((email.span(), Target::Email(self.email(email)?)));
        }
        if let Some(webhook) = raw.webhook {
            targets.push((webhook.span(), Target::Webhook(self.webhook(webhook)?)));
        }
        if let Some(command) = raw.command {
            let text = self.text(command, "notify.command")?;
            if text.value.trim().is_empty() {
                return Err(self.file.error(text.span, "notify.command must not be empty"));
            }
            self.notify_template(&text, "notify.command")?;
            targets.push((text.span.clone(), Target::Command(text)));
        }
        targets.sort_by_key(|(span, _)| span.start);
        let target = match targets.len() {
            0 => {
                return Err(self.file.error(
                    span,
                    "a [[notify]] entry needs one of `email`, `webhook` or `command`: where should it send?",
                ))
            }
            1 => targets.remove(0).1,
            _ => {
                let kinds: Vec<&str> = targets.iter().map(|(_, t)| t.kind()).collect();
                return Err(self.file.error(
                    targets[1].0.clone(),
                    format!(
                        "a [[notify]] entry sends one way, and this one gives {}; write a [[notify]] entry for each",
                        kinds.join(" and ")
                    ),
                ));
            }
        };
        Ok(Notify {
            line,
            on,
            min_failed,
            success_below,
            timeout: raw.timeout.map_or(DEFAULT_TIMEOUT, |t| t.0),
            retries,
            report_url,
            target,
        })
    }

    fn triggers(&self, words: Spanned<Vec<Spanned<String>>>) -> Result<Vec<Trigger>, ConfigError> {
        if words.get_ref().is_empty() {
            return Err(self.file.error(
                words.span(),
                format!("notify.on is empty, so this entry never sends; name any of: {}", Trigger::NAMES.join(", ")),
            ));
        }
        let mut on = Vec::new();
        for word in words.into_inner() {
            let Some(trigger) = Trigger::from_name(word.get_ref()) else {
                let mut message = format!("notify.on: `{}` is not a trigger", crate::text::one_line(word.get_ref()));
                match did_you_mean(word.get_ref(), Trigger::NAMES) {
                    Some(close) => message.push_str(&format!("; did you mean `{close}`?")),
                    None => message.push_str(&format!("; expected one of: {}", Trigger::NAMES.join(", "))),
                }
                return Err(self.file.error(word.span(), message));
            };
            if !on.contains(&trigger) {
                on.push(trigger);
            }
        }
        Ok(on)
    }

    fn email(&self, raw: Spanned<RawEmail>) -> Result<Email, ConfigError> {
        let raw = raw.into_inner();
        if let Some(password) = raw.password {
            return Err(self.file.error(
                password.span(),
                "notify.email.password: a password is never written in the file; name the environment variable \
                 that holds it with `password_env`",
            ));
        }
        let to_span = raw.to.span();
        let recipients = raw.to.into_inner();
        if recipients.is_empty() {
            return Err(self.file.error(to_span, "notify.email.to must name at least one recipient"));
        }
        let address = |value: Spanned<String>, key: &str| -> Result<String, ConfigError> {
            match value.get_ref().parse::<lettre::message::Mailbox>() {
                Ok(_) => Ok(value.into_inner()),
                Err(_) => Err(self.file.error(
                    value.span(),
                    format!("notify.email.{key}: `{}` is not an email address", crate::text::one_line(value.get_ref())),
                )),
            }
        };
        let to = recipients.into_iter().map(|r| address(r, "to")).collect::<Result<Vec<_>, _>>()?;
        let from = address(raw.from, "from")?;
        let server = raw.server;
        if server.get_ref().trim().is_empty() || server.get_ref().chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(self.file.error(server.span(), "notify.email.server must be a host name or address"));
        }
        let security = match raw.security {
            Some(s) => match s.get_ref().as_str() {
                "starttls" => Security::StartTls,
                "tls" => Security::Tls,
                "none" => Security::None,
                other => {
                    let mut message =
                        format!("notify.email.security: `{}` is not a way to connect", crate::text::one_line(other));
                    match did_you_mean(other, Security::NAMES) {
                        Some(close) => message.push_str(&format!("; did you mean `{close}`?")),
                        None => message.push_str(&format!("; expected one of: {}", Security::NAMES.join(", "))),
                    }
                    return Err(self.file.error(s.span(), message));
                }
            },
            None => Security::StartTls,
        };
        let port = match raw.port {
            Some(p) => u16::try_from(*p.get_ref())
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| self.file.error(p.span(), "notify.email.port must be a port number from 1 to 65535"))?,
            None => security.default_port(),
        };
        let login = match (raw.user, raw.password_env) {
            (None, None) => None,
            (Some(user), Some(env)) => {
                if user.get_ref().trim().is_empty() || user.get_ref().chars().any(char::is_control) {
                    return Err(self.file.error(user.span(), "notify.email.user must not be empty"));
                }
                Some(Login { user: user.into_inner(), password_env: self.env_name(env, "notify.email.password_env")? })
            }
            (Some(user), None) => {
                return Err(self.file.error(
                    user.span(),
                    "notify.email.user needs `password_env`: the environment variable that holds its password",
                ))
            }
            (None, Some(env)) => {
                return Err(self.file.error(env.span(), "notify.email.password_env needs `user`: who logs in"));
            }
        };
        Ok(Email {
            to,
            from,
            server: server.into_inner(),
            port,
            security,
            login,
            attach_report: raw.attach_report.unwrap_or(true),
        })
    }

    fn webhook(&self, raw: Spanned<RawWebhook>) -> Result<Webhook, ConfigError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let url = match (raw.url, raw.url_env) {
            (Some(url), None) => {
                if let Err(why) = check_url(url.get_ref()) {
                    return Err(self.file.error(url.span(), format!("notify.webhook.url: {why}")));
                }
                WebhookUrl::Literal(url.into_inner())
            }
            (None, Some(env)) => WebhookUrl::Env(self.env_name(env, "notify.webhook.url_env")?),
            (Some(_), Some(env)) => {
                return Err(self.file.error(env.span(), "notify.webhook takes `url` or `url_env`, not both"));
            }
            (None, None) => {
                return Err(self.file.error(
                    span,
                    "notify.webhook needs `url`, or `url_env` naming the environment variable that holds it",
                ))
            }
        };
        Ok(Webhook { url })
    }

    /// A template over the run: its syntax, and that it names only the run's variables.
    fn notify_template(&self, text: &Text, key: &str) -> Result<(), ConfigError> {
        let located = |err: &minijinja::Error, what: &str| -> ConfigError {
            let span: Span = template_span(self.file, text, err.range());
            self.file.error(span, format!("{key}: {what}"))
        };
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_fuel(Some(TEMPLATE_FUEL));
        let template = env
            .template_from_str(&text.value)
            .map_err(|e| located(&e, &format!("template error: {}", e.detail().unwrap_or("syntax error"))))?;
        let undeclared = template.undeclared_variables(false);
        let globals: Vec<&str> = env.globals().map(|(name, _)| name).collect();
        let mut unknown: Vec<&String> = undeclared
            .iter()
            .filter(|v| !TEMPLATE_VARIABLES.contains(&v.as_str()) && !globals.contains(&v.as_str()))
            .collect();
        unknown.sort();
        if let Some(name) = unknown.first() {
            let mut message = format!("{key}: undefined variable `{name}`");
            match did_you_mean(name, TEMPLATE_VARIABLES) {
                Some(close) => message.push_str(&format!("; did you mean `{close}`?")),
                None => message.push_str(&format!("; the run's variables are {}", TEMPLATE_VARIABLES.join(", "))),
            }
            let at = text.value.find(name.as_str()).map(|start| start..start + name.len());
            return Err(self.file.error(template_span(self.file, text, at), message));
        }
        Ok(())
    }
}

/// How many template instructions one rendering of a notification's template may run.
pub const TEMPLATE_FUEL: u64 = 100_000;

/// Whether `url` is one a webhook can be posted to: `Err` says why not.
pub fn check_url(url: &str) -> Result<(), String> {
    let shown = crate::text::one_line(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("`{shown}` is not a URL; write it like https://hooks.example.com/…"));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!(
            "the scheme `{}` is not one gridrun posts to: http or https",
            crate::text::one_line(scheme)
        ));
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("`{shown}` names no host"));
    }
    if url.parse::<ureq::http::Uri>().is_err() {
        return Err(format!("`{shown}` is not a valid URL"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_http_or_https_with_a_host() {
        assert!(check_url("https://hooks.example.com/services/T/B/X").is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook?x=1").is_ok());
        assert!(check_url("ftp://example.com/").unwrap_err().contains("http or https"));
        assert!(check_url("hooks.example.com").unwrap_err().contains("not a URL"));
        assert!(check_url("https:///path").unwrap_err().contains("no host"));
        assert!(check_url("https://exa mple.com/").unwrap_err().contains("not a valid URL"));
    }
}
