//! UI state. Only the reducer (`reducer.rs`) changes it; `draw` only reads it.

use chrono::{DateTime, Utc};

use super::input::TextInput;
use super::keymap::{Context, Keymap};
use super::source::{RunDetail, Tone};
use crate::config::ClipboardMode;
use crate::model::filter::Filter;
use crate::model::{RunId, RunStatus, RunSummary};

/// Settings fixed for the session.
#[derive(Debug, Clone)]
pub struct Settings {
    pub read_only: bool,
    /// The environment decisions go to; shown in the title, typed to confirm in production.
    pub environment: String,
    pub production: bool,
    pub approver: String,
    pub clipboard: ClipboardMode,
    /// Inside tmux, OSC 52 is wrapped in a DCS passthrough.
    pub in_tmux: bool,
    pub saved_filters: Vec<(String, String)>,
    /// Below this pane width the diff is unified instead of side by side.
    pub split_min_width: u16,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            read_only: false,
            environment: "usmf-sandbox".into(),
            production: false,
            approver: "approver".into(),
            clipboard: ClipboardMode::Auto,
            in_tmux: false,
            saved_filters: Vec::new(),
            split_min_width: 100,
        }
    }
}

/// Queue columns the sort key cycles through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Age,
    Expiry,
    Amount,
    /// The worst policy verdict first.
    Severity,
    Status,
    Action,
    Company,
    Requester,
}

impl SortColumn {
    pub fn next(self) -> SortColumn {
        match self {
            SortColumn::Age => SortColumn::Expiry,
            SortColumn::Expiry => SortColumn::Amount,
            SortColumn::Amount => SortColumn::Severity,
            SortColumn::Severity => SortColumn::Status,
            SortColumn::Status => SortColumn::Action,
            SortColumn::Action => SortColumn::Company,
            SortColumn::Company => SortColumn::Requester,
            SortColumn::Requester => SortColumn::Age,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortColumn::Age => "age",
            SortColumn::Expiry => "expiry",
            SortColumn::Amount => "amount",
            SortColumn::Severity => "severity",
            SortColumn::Status => "status",
            SortColumn::Action => "action",
            SortColumn::Company => "company",
            SortColumn::Requester => "requester",
        }
    }
}

/// The queue: all summaries, and the filtered, sorted view of them.
#[derive(Debug, Clone)]
pub struct Queue {
    pub all: Vec<RunSummary>,
    /// Indices into `all`, filtered and sorted.
    pub view: Vec<u32>,
    pub selected: usize,
    /// First visible row (virtualization: only `offset..offset+height` is rendered).
    pub offset: usize,
    pub sort: SortColumn,
    pub reverse: bool,
    pub filter_text: String,
    pub filter: Filter,
    /// Which saved filter is applied, if one is.
    pub saved: Option<usize>,
    /// The load whose rows are still being judged (their policy and rollback cells show `…`).
    pub judging: Option<u64>,
    /// Counts the loads, so a batch judged for an older one is dropped.
    pub generation: u64,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            all: Vec::new(),
            view: Vec::new(),
            selected: 0,
            offset: 0,
            sort: SortColumn::Age,
            reverse: false,
            filter_text: String::new(),
            filter: Filter::default(),
            judging: None,
            generation: 0,
            saved: None,
        }
    }
}

impl Queue {
    /// The summary under the cursor.
    pub fn current(&self) -> Option<&RunSummary> {
        self.view.get(self.selected).and_then(|i| self.all.get(*i as usize))
    }

    pub fn count_status(&self, status: RunStatus) -> usize {
        self.all.iter().filter(|s| s.status == status).count()
    }
}

/// Run view tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Diff,
    Lines,
    Policy,
    Rollback,
    Audit,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Diff, Tab::Lines, Tab::Policy, Tab::Rollback, Tab::Audit];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Diff => "Diff",
            Tab::Lines => "Lines",
            Tab::Policy => "Policy",
            Tab::Rollback => "Rollback",
            Tab::Audit => "Audit",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// The open run.
#[derive(Debug, Clone)]
pub struct RunView {
    pub id: RunId,
    pub summary: RunSummary,
    pub detail: Option<Box<RunDetail>>,
    pub error: Option<String>,
    pub tab: Tab,
    /// Scroll offset per tab.
    pub scroll: [usize; 5],
}

/// Which screen is showing under any overlay.
#[derive(Debug, Clone)]
pub enum Screen {
    Queue,
    Run(Box<RunView>),
}

/// A confirm dialog's purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogKind {
    Approve,
    Reject,
    /// Send the compensation plan of an executed run.
    Rollback,
    /// Quitting would throw away text typed into a dialog.
    Quit,
}

/// What has focus in a dialog. Cancel is where focus starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Reason,
    TypedName,
    Cancel,
    Confirm,
}

/// One line of a dialog's summary: a label, and a value the view wraps to the dialog's width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryLine {
    pub label: String,
    pub value: String,
    pub tone: Tone,
}

impl SummaryLine {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> SummaryLine {
        SummaryLine { label: label.into(), value: value.into(), tone: Tone::Text }
    }

    pub fn toned(label: impl Into<String>, value: impl Into<String>, tone: Tone) -> SummaryLine {
        SummaryLine { label: label.into(), value: value.into(), tone }
    }
}

/// A confirm dialog.
#[derive(Debug, Clone)]
pub struct Dialog {
    pub kind: DialogKind,
    pub run_id: RunId,
    /// Lines summing up what is being decided.
    pub summary: Vec<SummaryLine>,
    /// First summary row shown, when the summary is taller than the screen allows (PgDn / PgUp).
    pub scroll: usize,
    pub reason: Option<TextInput>,
    /// In production: the environment name the approver must type.
    pub typed_name: Option<TextInput>,
    pub focus: Focus,
    pub error: Option<String>,
    pub reviewed_digest: Option<String>,
    /// The dialog the quit question interrupted, restored on Cancel.
    pub interrupted: Option<Box<Dialog>>,
}

impl Dialog {
    /// The focus order: fields first, then Cancel, then the confirm button.
    pub fn focus_order(&self) -> Vec<Focus> {
        let mut order = Vec::new();
        if self.reason.is_some() {
            order.push(Focus::Reason);
        }
        if self.typed_name.is_some() {
            order.push(Focus::TypedName);
        }
        order.extend([Focus::Cancel, Focus::Confirm]);
        order
    }

    /// Whether any text has been typed (quitting would lose it).
    pub fn holds_input(&self) -> bool {
        self.reason.as_ref().is_some_and(|r| !r.text.is_empty())
            || self.typed_name.as_ref().is_some_and(|t| !t.text.is_empty())
    }

    /// The text field with focus, if any.
    pub fn focused_input(&mut self) -> Option<&mut TextInput> {
        match self.focus {
            Focus::Reason => self.reason.as_mut(),
            Focus::TypedName => self.typed_name.as_mut(),
            _ => None,
        }
    }
}

/// What covers the screen.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    /// Every flash message of the session (`:messages`), newest last.
    Messages {
        scroll: usize,
    },
    Dialog(Box<Dialog>),
}

/// The bottom-line prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Command,
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: TextInput,
    pub error: Option<String>,
    /// The filter to restore on Esc.
    pub previous: String,
}

/// A short message in the status line that clears itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    pub generation: u64,
}

/// A flash message kept for `:messages` after it left the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub at: DateTime<Utc>,
    pub text: String,
    pub error: bool,
}

/// How many messages `:messages` keeps (the oldest go first).
pub const MESSAGES_KEPT: usize = 1000;

/// The whole UI state.
#[derive(Debug, Clone)]
pub struct State {
    pub keymap: Keymap,
    pub settings: Settings,
    pub width: u16,
    pub height: u16,
    pub now: DateTime<Utc>,
    /// Summaries are loading (the first frame shows "loading…").
    pub loading: bool,
    /// The queue holds only its first rows (`FirstSummariesLoaded`); every row is still loading.
    pub partial: bool,
    /// Why the store cannot be watched for changes right now (the title says the screen is not live).
    pub live_off: Option<String>,
    pub load_error: Option<String>,
    pub queue: Queue,
    pub screen: Screen,
    pub overlay: Option<Overlay>,
    pub prompt: Option<Prompt>,
    pub flash: Option<Flash>,
    /// Every flash of the session, newest last, at most [`MESSAGES_KEPT`].
    pub messages: Vec<Message>,
    pub flash_generation: u64,
    /// Background jobs in flight; the tick runs only while this is non-zero.
    pub busy: u32,
    /// Spinner phase, advanced by the tick.
    pub spinner: u8,
    /// A decision is in flight for this run.
    pub deciding: Option<RunId>,
    /// The decision in flight has reached the Sending step: Esc can no longer stop it.
    pub decision_sending: bool,
    /// The queue is being reloaded because the store changed (or `R`).
    pub reloading: bool,
    /// The store changed again while it was being reloaded: reload once more when that load is in.
    pub reload_again: bool,
    /// The rollback dialog opens for this run once its detail (the plan) has loaded.
    /// A decision asked for before its run's judgement was on screen: the dialog follows once it is.
    pub pending_decision: Option<(RunId, super::source::DecisionKind)>,
    /// Something changed since the last frame.
    pub dirty: bool,
    pub quit: bool,
    /// The approver flipped the diff layout away from what the width chooses (`u`).
    pub layout_flipped: bool,
    /// Unchanged fields are shown in the diff and on every line (`z`).
    pub unfolded: bool,
    /// The connector's activation steps, when the source has them (the title shows the next step).
    pub activation: Option<crate::review::activation::Activation>,
}

impl State {
    pub fn new(keymap: Keymap, settings: Settings, width: u16, height: u16, now: DateTime<Utc>) -> State {
        State {
            keymap,
            settings,
            width,
            height,
            now,
            loading: true,
            partial: false,
            live_off: None,
            load_error: None,
            queue: Queue::default(),
            screen: Screen::Queue,
            overlay: None,
            prompt: None,
            flash: None,
            messages: Vec::new(),
            flash_generation: 0,
            busy: 0,
            spinner: 0,
            deciding: None,
            pending_decision: None,
            decision_sending: false,
            reloading: false,
            reload_again: false,
            dirty: true,
            quit: false,
            layout_flipped: false,
            unfolded: false,
            activation: None,
        }
    }

    /// The keymap context for the current focus.
    pub fn context(&self) -> Context {
        match (&self.overlay, &self.screen) {
            (Some(Overlay::Dialog(_)), _) => Context::Dialog,
            (Some(Overlay::Help { .. } | Overlay::Messages { .. }), _) => Context::Help,
            (None, Screen::Run(_)) => Context::Run,
            (None, Screen::Queue) => Context::Queue,
        }
    }

    /// Whether the screen is big enough for the real layout.
    pub fn too_small(&self) -> bool {
        self.width < 80 || self.height < 24
    }

    /// Whether the run view shows the diff unified: by the main pane's width, unless flipped with `u`.
    pub fn diff_unified(&self) -> bool {
        let pane = if self.wide() { self.width as u32 * 62 / 100 } else { self.width as u32 };
        (pane < self.settings.split_min_width as u32) != self.layout_flipped
    }

    /// Wide layouts: queue columns widen, the run view gets side panes.
    pub fn wide(&self) -> bool {
        self.width >= 120
    }

    pub fn run_view(&self) -> Option<&RunView> {
        match &self.screen {
            Screen::Run(v) => Some(v),
            Screen::Queue => None,
        }
    }
}
