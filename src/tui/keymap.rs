//! Key bindings as data: each binding has keys, a command, a description and a context. The help overlay
//! and the key-hint bar are generated from this one table, so they never drift apart.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies. `Global` bindings apply everywhere a text field does not hold focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    Global,
    Queue,
    Run,
    Dialog,
    Help,
}

impl Context {
    pub fn label(self) -> &'static str {
        match self {
            Context::Global => "everywhere",
            Context::Queue => "queue",
            Context::Run => "run view",
            Context::Dialog => "dialogs",
            Context::Help => "help",
        }
    }
}

/// Something a key can ask for. Names are what `[ui.keys]` in the config refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    HalfPageDown,
    HalfPageUp,
    Open,
    Back,
    Help,
    Quit,
    Filter,
    NextFilter,
    PrevFilter,
    NextPane,
    PrevPane,
    CommandLine,
    CopyId,
    Approve,
    Reject,
    DryRun,
    Rollback,
    Refresh,
    Sort,
    Reverse,
    ToggleLayout,
    Unfold,
    Confirm,
}

impl Command {
    pub const ALL: [Command; 29] = [
        Command::Down,
        Command::Up,
        Command::Top,
        Command::Bottom,
        Command::PageDown,
        Command::PageUp,
        Command::HalfPageDown,
        Command::HalfPageUp,
        Command::Open,
        Command::Back,
        Command::Help,
        Command::Quit,
        Command::Filter,
        Command::NextFilter,
        Command::PrevFilter,
        Command::NextPane,
        Command::PrevPane,
        Command::CommandLine,
        Command::CopyId,
        Command::Approve,
        Command::Reject,
        Command::DryRun,
        Command::Rollback,
        Command::Refresh,
        Command::Sort,
        Command::Reverse,
        Command::ToggleLayout,
        Command::Unfold,
        Command::Confirm,
    ];

    /// The config name (`page_down`).
    pub fn name(self) -> &'static str {
        match self {
            Command::Down => "down",
            Command::Up => "up",
            Command::Top => "top",
            Command::Bottom => "bottom",
            Command::PageDown => "page_down",
            Command::PageUp => "page_up",
            Command::HalfPageDown => "half_page_down",
            Command::HalfPageUp => "half_page_up",
            Command::Open => "open",
            Command::Back => "back",
            Command::Help => "help",
            Command::Quit => "quit",
            Command::Filter => "filter",
            Command::NextFilter => "next_filter",
            Command::PrevFilter => "prev_filter",
            Command::NextPane => "next_pane",
            Command::PrevPane => "prev_pane",
            Command::CommandLine => "command_line",
            Command::CopyId => "copy_id",
            Command::Approve => "approve",
            Command::Reject => "reject",
            Command::DryRun => "dry_run",
            Command::Rollback => "rollback",
            Command::Refresh => "refresh",
            Command::Sort => "sort",
            Command::Reverse => "reverse",
            Command::ToggleLayout => "toggle_layout",
            Command::Unfold => "unfold",
            Command::Confirm => "confirm",
        }
    }

    /// What the command does, for help and hints.
    pub fn description(self) -> &'static str {
        match self {
            Command::Down => "move down / scroll down",
            Command::Up => "move up / scroll up",
            Command::Top => "go to the top",
            Command::Bottom => "go to the bottom",
            Command::PageDown => "page down",
            Command::PageUp => "page up",
            Command::HalfPageDown => "half a page down",
            Command::HalfPageUp => "half a page up",
            Command::Open => "open the selected run",
            Command::Back => "back / close / cancel",
            Command::Help => "show or hide this help",
            Command::Quit => "quit (asks first if a dialog holds input or a decision is in flight)",
            Command::Filter => "filter the queue (text or field:value)",
            Command::NextFilter => "apply the next saved filter",
            Command::PrevFilter => "apply the previous saved filter",
            Command::NextPane => "next tab / next field",
            Command::PrevPane => "previous tab / previous field",
            Command::CommandLine => "command line (approve, reject, rollback, filter, quit)",
            Command::CopyId => "copy the run id (OSC 52)",
            Command::Approve => "approve the run (opens a confirm dialog)",
            Command::Reject => "reject the run (asks for a reason)",
            Command::DryRun => "dry run: show the exact requests, write nothing",
            Command::Rollback => "roll back an executed run: shows the plan, asks for a reason",
            Command::Refresh => "refresh now: reload the queue and the open run",
            Command::Sort => "sort by the next column",
            Command::Reverse => "reverse the sort order",
            Command::ToggleLayout => "diff side by side / unified",
            Command::Unfold => "show / fold unchanged fields",
            Command::Confirm => "press the focused button",
        }
    }

    /// A short label for the key-hint bar.
    pub fn hint(self) -> &'static str {
        match self {
            Command::Down | Command::Up => "move",
            Command::Open => "open",
            Command::Back => "back",
            Command::Help => "help",
            Command::Quit => "quit",
            Command::Filter => "filter",
            Command::Approve => "approve",
            Command::Reject => "reject",
            Command::DryRun => "dry-run",
            Command::Sort => "sort",
            Command::NextPane => "tab",
            Command::CommandLine => "cmd",
            Command::CopyId => "copy id",
            Command::Confirm => "press",
            _ => "",
        }
    }

    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// One key: a code plus Ctrl/Alt (Shift is part of the character for printable keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    /// The key an event carries, normalised so `G` matches whether or not the terminal reports Shift.
    pub fn from_event(ev: &KeyEvent) -> Key {
        Key {
            code: ev.code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// Parse `j`, `G`, `ctrl-u`, `pgdown`, `shift-tab`, `f1`, `?`, `space`.
    pub fn parse(spec: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = spec;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "down" => KeyCode::Down,
            "up" => KeyCode::Up,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" => KeyCode::PageUp,
            "pgdown" => KeyCode::PageDown,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse::<u8>().unwrap_or(1))
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
            _ => return Err(format!("unknown key '{spec}'; use e.g. j, G, ctrl-u, pgdown, shift-tab, f1, esc")),
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("C-")?;
        }
        if self.alt {
            f.write_str("M-")?;
        }
        match self.code {
            KeyCode::Down => f.write_str("Down"),
            KeyCode::Up => f.write_str("Up"),
            KeyCode::Left => f.write_str("Left"),
            KeyCode::Right => f.write_str("Right"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("S-Tab"),
            KeyCode::Backspace => f.write_str("BS"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            _ => f.write_str("?"),
        }
    }
}

/// One binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub context: Context,
    pub command: Command,
    pub keys: Vec<Key>,
}

/// The default bindings: vim and arrow keys both.
const DEFAULTS: &[(Context, Command, &[&str])] = &[
    (Context::Global, Command::Help, &["?", "f1"]),
    (Context::Global, Command::Quit, &["q", "ctrl-c"]),
    (Context::Global, Command::CommandLine, &[":"]),
    (Context::Queue, Command::Down, &["j", "down"]),
    (Context::Queue, Command::Up, &["k", "up"]),
    (Context::Queue, Command::Top, &["g", "home"]),
    (Context::Queue, Command::Bottom, &["G", "end"]),
    (Context::Queue, Command::PageDown, &["pgdown"]),
    (Context::Queue, Command::PageUp, &["pgup"]),
    (Context::Queue, Command::HalfPageDown, &["ctrl-d"]),
    (Context::Queue, Command::HalfPageUp, &["ctrl-u"]),
    (Context::Queue, Command::Open, &["enter"]),
    (Context::Queue, Command::Filter, &["/"]),
    (Context::Queue, Command::NextFilter, &["n"]),
    (Context::Queue, Command::PrevFilter, &["N"]),
    (Context::Queue, Command::Back, &["esc"]),
    (Context::Queue, Command::Sort, &["s"]),
    (Context::Queue, Command::Reverse, &["S"]),
    (Context::Queue, Command::CopyId, &["y"]),
    (Context::Queue, Command::Approve, &["a"]),
    (Context::Queue, Command::Reject, &["r"]),
    (Context::Queue, Command::DryRun, &["d"]),
    (Context::Queue, Command::Rollback, &["U"]),
    (Context::Queue, Command::Refresh, &["R"]),
    (Context::Run, Command::Down, &["j", "down"]),
    (Context::Run, Command::Up, &["k", "up"]),
    (Context::Run, Command::Top, &["g", "home"]),
    (Context::Run, Command::Bottom, &["G", "end"]),
    (Context::Run, Command::PageDown, &["pgdown"]),
    (Context::Run, Command::PageUp, &["pgup"]),
    (Context::Run, Command::HalfPageDown, &["ctrl-d"]),
    (Context::Run, Command::HalfPageUp, &["ctrl-u"]),
    (Context::Run, Command::NextPane, &["tab", "l", "right"]),
    (Context::Run, Command::PrevPane, &["shift-tab", "h", "left"]),
    (Context::Run, Command::Back, &["esc"]),
    (Context::Run, Command::CopyId, &["y"]),
    (Context::Run, Command::Approve, &["a"]),
    (Context::Run, Command::Reject, &["r"]),
    (Context::Run, Command::DryRun, &["d"]),
    (Context::Run, Command::Rollback, &["U"]),
    (Context::Run, Command::Refresh, &["R"]),
    (Context::Run, Command::ToggleLayout, &["u"]),
    (Context::Run, Command::Unfold, &["z"]),
    (Context::Dialog, Command::NextPane, &["tab"]),
    (Context::Dialog, Command::PrevPane, &["shift-tab"]),
    (Context::Dialog, Command::Confirm, &["enter"]),
    (Context::Dialog, Command::Back, &["esc"]),
    (Context::Dialog, Command::PageDown, &["pgdown"]),
    (Context::Dialog, Command::PageUp, &["pgup"]),
    (Context::Help, Command::Down, &["j", "down"]),
    (Context::Help, Command::Up, &["k", "up"]),
    (Context::Help, Command::Top, &["g", "home"]),
    (Context::Help, Command::Bottom, &["G", "end"]),
    (Context::Help, Command::PageDown, &["pgdown"]),
    (Context::Help, Command::PageUp, &["pgup"]),
    (Context::Help, Command::HalfPageDown, &["ctrl-d"]),
    (Context::Help, Command::HalfPageUp, &["ctrl-u"]),
    (Context::Help, Command::Back, &["esc"]),
];

/// The whole keymap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

/// A `[ui.keys]` entry that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error("[ui.keys]: unknown action '{name}'; known actions: {known}")]
    UnknownAction { name: String, known: String },
    #[error("[ui.keys] {action}: {message}")]
    BadKey { action: String, message: String },
}

impl Default for Keymap {
    fn default() -> Self {
        let bindings = DEFAULTS
            .iter()
            .map(|(context, command, keys)| Binding {
                context: *context,
                command: *command,
                keys: keys.iter().filter_map(|k| Key::parse(k).ok()).collect(),
            })
            .collect();
        Keymap { bindings }
    }
}

impl Keymap {
    /// The defaults with `[ui.keys]` overrides applied: an override replaces that action's keys in every
    /// context where the action is bound.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::default();
        for (name, specs) in overrides {
            let command = Command::from_name(name).ok_or_else(|| KeymapError::UnknownAction {
                name: name.clone(),
                known: Command::ALL.iter().map(|c| c.name()).collect::<Vec<_>>().join(", "),
            })?;
            let keys = specs
                .iter()
                .map(|s| Key::parse(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|message| KeymapError::BadKey { action: name.clone(), message })?;
            for binding in map.bindings.iter_mut().filter(|b| b.command == command) {
                binding.keys = keys.clone();
            }
        }
        Ok(map)
    }

    /// The command `key` means in `context` (falling back to global bindings).
    pub fn lookup(&self, context: Context, key: Key) -> Option<Command> {
        let find =
            |ctx: Context| self.bindings.iter().find(|b| b.context == ctx && b.keys.contains(&key)).map(|b| b.command);
        find(context).or_else(|| if context == Context::Dialog { None } else { find(Context::Global) })
    }

    /// The first key bound to `command` in `context`, for hints and messages.
    pub fn key_for(&self, context: Context, command: Command) -> Option<Key> {
        self.bindings
            .iter()
            .find(|b| (b.context == context || b.context == Context::Global) && b.command == command)
            .and_then(|b| b.keys.first().copied())
    }

    /// Bindings of one context in table order.
    pub fn in_context(&self, context: Context) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.context == context)
    }

    /// `key desc` pairs for the hint bar of `context`: its bindings with a hint, then the global ones
    /// where they apply (as in [`Keymap::lookup`], not in dialogs, where keys type into fields).
    pub fn hints(&self, context: Context) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = Vec::new();
        let global = if context == Context::Dialog { None } else { Some(Context::Global) };
        for b in self.in_context(context).chain(global.into_iter().flat_map(|g| self.in_context(g))) {
            let hint = b.command.hint();
            if hint.is_empty() || out.iter().any(|(_, h)| *h == hint) {
                continue;
            }
            if let Some(k) = b.keys.first() {
                out.push((k.to_string(), hint));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vim_and_arrow_keys_both_move_in_the_queue() {
        let map = Keymap::default();
        for spec in ["j", "down"] {
            assert_eq!(map.lookup(Context::Queue, Key::parse(spec).unwrap()), Some(Command::Down));
        }
        assert_eq!(map.lookup(Context::Queue, Key::parse("ctrl-c").unwrap()), Some(Command::Quit));
        assert_eq!(map.lookup(Context::Run, Key::parse("G").unwrap()), Some(Command::Bottom));
    }

    #[test]
    fn an_override_replaces_the_keys_of_that_action_everywhere() {
        let overrides = BTreeMap::from([("approve".to_string(), vec!["A".to_string()])]);
        let map = Keymap::with_overrides(&overrides).unwrap();
        assert_eq!(map.lookup(Context::Queue, Key::parse("A").unwrap()), Some(Command::Approve));
        assert_eq!(map.lookup(Context::Run, Key::parse("A").unwrap()), Some(Command::Approve));
        assert_eq!(map.lookup(Context::Queue, Key::parse("a").unwrap()), None);
    }

    #[test]
    fn an_unknown_action_name_is_a_config_error_listing_the_known_ones() {
        let overrides = BTreeMap::from([("aprove".to_string(), vec!["a".to_string()])]);
        let err = Keymap::with_overrides(&overrides).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown action 'aprove'") && text.contains("approve"), "{text}");
    }

    #[test]
    fn an_unparseable_key_is_a_config_error() {
        let overrides = BTreeMap::from([("quit".to_string(), vec!["hyper-q".to_string()])]);
        assert!(matches!(Keymap::with_overrides(&overrides), Err(KeymapError::BadKey { .. })));
    }
}
