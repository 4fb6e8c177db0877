//! Themes keyed by meaning (`diff.added`, `policy.hard`, `selection`), loaded from TOML, resolved for the
//! terminal's colour depth. A missing token falls back to its parent (`policy.hard` → `policy` → `text`),
//! then to the built-in default theme. With no colour, selection is reversed and attributes remain.

use std::collections::BTreeMap;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::config::ColorMode;

/// Every token a view may ask for.
pub const TOKENS: &[&str] = &[
    "text",
    "muted",
    "title",
    "border",
    "header",
    "selection",
    "key",
    "input",
    "diff.added",
    "diff.removed",
    "diff.changed",
    "diff.emph",
    "policy.pass",
    "policy.advisory",
    "policy.soft",
    "policy.hard",
    "rollback.ready",
    "rollback.conditional",
    "rollback.not_ready",
    "status.pending",
    "status.approved",
    "status.executing",
    "status.executed",
    "status.handed_over",
    "status.failed",
    "status.rejected",
    "status.expired",
    "status.stale",
    "status.rolled_back",
    "status.unknown",
    "status.partly_executed",
    "status.rollback_partial",
    "flash.info",
    "flash.error",
    "banner.production",
];

/// The themes shipped in the binary.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("dark", include_str!("../../themes/dark.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("colorblind", include_str!("../../themes/colorblind.toml")),
];

/// The colour depth frames are drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    TrueColor,
    Ansi256,
    Ansi16,
    None,
}

/// Decide the depth from the setting and the environment (`NO_COLOR`, `COLORTERM`, `TERM`).
/// An explicit setting wins over `NO_COLOR`; `auto` honours it.
pub fn resolve_depth(mode: ColorMode, env: impl Fn(&str) -> Option<String>) -> Depth {
    match mode {
        ColorMode::Truecolor => Depth::TrueColor,
        ColorMode::Ansi256 => Depth::Ansi256,
        ColorMode::Ansi16 => Depth::Ansi16,
        ColorMode::None => Depth::None,
        ColorMode::Auto => {
            if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                return Depth::None;
            }
            let colorterm = env("COLORTERM").unwrap_or_default().to_ascii_lowercase();
            let term = env("TERM").unwrap_or_default();
            if colorterm == "truecolor" || colorterm == "24bit" || term.ends_with("-direct") {
                Depth::TrueColor
            } else if term.contains("256color") {
                Depth::Ansi256
            } else {
                Depth::Ansi16
            }
        }
    }
}

/// A theme resolved to ratatui styles for one depth.
#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    pub depth: Depth,
    styles: BTreeMap<&'static str, Style>,
}

/// A theme that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    #[error(
        "unknown theme '{0}'; built-in themes: default, light, dark, high-contrast, colorblind (or give a path to a .toml file)"
    )]
    Unknown(String),
    #[error("theme {name}: {message}")]
    Invalid { name: String, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    tokens: BTreeMap<String, TokenSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenSpec {
    fg: Option<ColorSpec>,
    bg: Option<ColorSpec>,
    /// 256-colour fallbacks for truecolor values.
    fg256: Option<u8>,
    bg256: Option<u8>,
    /// 16-colour fallbacks.
    fg16: Option<String>,
    bg16: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    dim: bool,
    /// Dim at 16 colours only, where a muted palette colour could equal the terminal's background.
    #[serde(default)]
    dim16: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ColorSpec {
    Name(String),
    Index(u8),
}

impl Theme {
    /// A built-in theme by name, or a theme file by path.
    pub fn load(name_or_path: &str, depth: Depth) -> Result<Theme, ThemeError> {
        if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Theme::from_toml(name, text, depth);
        }
        if name_or_path.ends_with(".toml") {
            let text = std::fs::read_to_string(name_or_path).map_err(|e| ThemeError::Invalid {
                name: name_or_path.to_string(),
                message: format!("cannot read it ({e}); check the path in [ui] theme or --theme"),
            })?;
            return Theme::from_toml(name_or_path, &text, depth);
        }
        Err(ThemeError::Unknown(name_or_path.to_string()))
    }

    /// The built-in default theme (16 ANSI colours); cannot fail.
    pub fn fallback(depth: Depth) -> Theme {
        Theme::from_toml("default", BUILTIN[0].1, depth).unwrap_or_else(|_| Theme {
            name: "default".into(),
            depth,
            styles: BTreeMap::new(),
        })
    }

    /// Parse a theme file and resolve every token.
    pub fn from_toml(name: &str, text: &str, depth: Depth) -> Result<Theme, ThemeError> {
        let invalid = |message: String| ThemeError::Invalid { name: name.to_string(), message };
        let file: ThemeFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let known = |k: &str| TOKENS.iter().any(|t| *t == k || t.strip_prefix(k).is_some_and(|r| r.starts_with('.')));
        if let Some(unknown) = file.tokens.keys().find(|k| !known(k)) {
            return Err(invalid(format!("unknown token '{unknown}'; tokens: {}", TOKENS.join(", "))));
        }
        let base = if name == "default" { None } else { Some(Theme::fallback(depth)) };
        let mut styles = BTreeMap::new();
        for token in TOKENS {
            let style = match lookup_chain(&file.tokens, token) {
                Some(spec) => resolve(spec, depth).map_err(|m| invalid(format!("{token}: {m}")))?,
                None => match &base {
                    Some(b) => b.style(token),
                    None => Style::default(),
                },
            };
            // Without colour, reverse video is the only way to see the selection.
            let style = if depth == Depth::None && *token == "selection" {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style
            };
            styles.insert(*token, style);
        }
        Ok(Theme { name: name.to_string(), depth, styles })
    }

    /// The style for a token; an unknown token gets `text`.
    pub fn style(&self, token: &str) -> Style {
        self.styles.get(token).or_else(|| self.styles.get("text")).copied().unwrap_or_default()
    }
}

/// `policy.hard` → `policy` → `text`.
fn lookup_chain<'a>(tokens: &'a BTreeMap<String, TokenSpec>, token: &str) -> Option<&'a TokenSpec> {
    let mut name = token;
    loop {
        if let Some(spec) = tokens.get(name) {
            return Some(spec);
        }
        match name.rsplit_once('.') {
            Some((parent, _)) => name = parent,
            None if name != "text" => name = "text",
            None => return None,
        }
    }
}

fn resolve(spec: &TokenSpec, depth: Depth) -> Result<Style, String> {
    let mut style = Style::default();
    let mut modifiers = Modifier::empty();
    for (on, m) in [
        (spec.bold, Modifier::BOLD),
        (spec.italic, Modifier::ITALIC),
        (spec.underline, Modifier::UNDERLINED),
        (spec.reversed, Modifier::REVERSED),
        (spec.dim, Modifier::DIM),
        (spec.dim16 && depth == Depth::Ansi16, Modifier::DIM),
    ] {
        if on {
            modifiers |= m;
        }
    }
    style = style.add_modifier(modifiers);
    if depth == Depth::None {
        return Ok(style);
    }
    if let Some(c) = pick(spec.fg.as_ref(), spec.fg256, spec.fg16.as_deref(), depth)? {
        style = style.fg(c);
    }
    if let Some(c) = pick(spec.bg.as_ref(), spec.bg256, spec.bg16.as_deref(), depth)? {
        style = style.bg(c);
    }
    Ok(style)
}

fn pick(main: Option<&ColorSpec>, c256: Option<u8>, c16: Option<&str>, depth: Depth) -> Result<Option<Color>, String> {
    let Some(main) = main else { return Ok(None) };
    let color = match main {
        ColorSpec::Index(i) => Color::Indexed(*i),
        ColorSpec::Name(n) => parse_color(n)?,
    };
    Ok(Some(match (color, depth) {
        (Color::Rgb(..), Depth::Ansi256) => c256.map(Color::Indexed).unwrap_or_else(|| to_256(color)),
        (Color::Rgb(..) | Color::Indexed(_), Depth::Ansi16) => match c16 {
            Some(n) => parse_color(n)?,
            None => to_16(color),
        },
        _ => color,
    }))
}

fn parse_color(name: &str) -> Result<Color, String> {
    if let Some(hex) = name.strip_prefix('#') {
        let v = u32::from_str_radix(hex, 16).map_err(|_| format!("'{name}' is not a #rrggbb colour"))?;
        if hex.len() != 6 {
            return Err(format!("'{name}' is not a #rrggbb colour"));
        }
        return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
    }
    Ok(match name.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" | "white" => Color::Gray,
        "darkgray" | "darkgrey" | "brightblack" => Color::DarkGray,
        "lightred" | "brightred" => Color::LightRed,
        "lightgreen" | "brightgreen" => Color::LightGreen,
        "lightyellow" | "brightyellow" => Color::LightYellow,
        "lightblue" | "brightblue" => Color::LightBlue,
        "lightmagenta" | "brightmagenta" => Color::LightMagenta,
        "lightcyan" | "brightcyan" => Color::LightCyan,
        "brightwhite" => Color::White,
        _ => return Err(format!("unknown colour '{name}'; use an ANSI name (red, bright-blue), #rrggbb or 0-255")),
    })
}

/// Nearest xterm-256 cube colour.
fn to_256(color: Color) -> Color {
    let Color::Rgb(r, g, b) = color else { return color };
    let q = |v: u8| {
        if v < 48 {
            0
        } else if v < 115 {
            1
        } else {
            (v - 35) / 40
        }
    };
    Color::Indexed(16 + 36 * q(r) + 6 * q(g) + q(b))
}

/// Nearest of the 16 ANSI colours, by hue buckets; good enough where no 16-colour fallback was given.
fn to_16(color: Color) -> Color {
    let (r, g, b) = match color {
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(i) if i >= 16 => return Color::Gray,
        other => return other,
    };
    let bright = r.max(g).max(b) > 170;
    let on = |v: u8| v > 100;
    match (on(r), on(g), on(b)) {
        (false, false, false) => Color::DarkGray,
        (true, false, false) => {
            if bright {
                Color::LightRed
            } else {
                Color::Red
            }
        }
        (false, true, false) => {
            if bright {
                Color::LightGreen
            } else {
                Color::Green
            }
        }
        (true, true, false) => {
            if bright {
                Color::LightYellow
            } else {
                Color::Yellow
            }
        }
        (false, false, true) => {
            if bright {
                Color::LightBlue
            } else {
                Color::Blue
            }
        }
        (true, false, true) => {
            if bright {
                Color::LightMagenta
            } else {
                Color::Magenta
            }
        }
        (false, true, true) => {
            if bright {
                Color::LightCyan
            } else {
                Color::Cyan
            }
        }
        (true, true, true) => {
            if bright {
                Color::White
            } else {
                Color::Gray
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn auto_depth_follows_colorterm_then_term_and_honours_no_color() {
        assert_eq!(resolve_depth(ColorMode::Auto, env(&[("COLORTERM", "truecolor")])), Depth::TrueColor);
        assert_eq!(resolve_depth(ColorMode::Auto, env(&[("TERM", "tmux-256color")])), Depth::Ansi256);
        assert_eq!(resolve_depth(ColorMode::Auto, env(&[("TERM", "xterm")])), Depth::Ansi16);
        assert_eq!(resolve_depth(ColorMode::Auto, env(&[("NO_COLOR", "1"), ("COLORTERM", "24bit")])), Depth::None);
        assert_eq!(resolve_depth(ColorMode::Ansi16, env(&[("NO_COLOR", "1")])), Depth::Ansi16);
    }

    #[test]
    fn truecolor_tokens_use_their_256_colour_fallback() {
        let theme = Theme::load("dark", Depth::Ansi256).unwrap();
        assert!(matches!(theme.style("diff.added").fg, Some(Color::Indexed(_))));
        let theme16 = Theme::load("dark", Depth::Ansi16).unwrap();
        assert!(!matches!(theme16.style("diff.added").fg, Some(Color::Indexed(_) | Color::Rgb(..))));
    }

    #[test]
    fn without_colour_no_token_carries_a_colour_and_selection_is_reversed() {
        for (name, _) in BUILTIN {
            let theme = Theme::load(name, Depth::None).unwrap();
            for token in TOKENS {
                let s = theme.style(token);
                assert!(s.fg.is_none() && s.bg.is_none(), "{name} {token} has a colour without colour");
            }
            assert!(theme.style("selection").add_modifier.contains(Modifier::REVERSED), "{name}");
        }
    }

    #[test]
    fn every_shipped_theme_file_defines_every_token_itself() {
        // A token missing from a file would silently take the default theme's style (or its parent's):
        // each shipped theme says what every meaning looks like.
        for (name, text) in BUILTIN {
            let file: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let tokens = file.get("tokens").and_then(|t| t.as_table()).unwrap_or_else(|| panic!("{name}: [tokens]"));
            for token in TOKENS {
                assert!(tokens.contains_key(*token), "themes/{name}.toml does not define '{token}'");
            }
            for depth in [Depth::TrueColor, Depth::Ansi256, Depth::Ansi16, Depth::None] {
                Theme::load(name, depth).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }

    #[test]
    fn every_token_a_view_asks_for_is_a_known_token() {
        // `style("diff.add")` would quietly fall back to `text`; catch the typo here.
        let sources = [
            include_str!("views/mod.rs"),
            include_str!("views/queue.rs"),
            include_str!("views/run.rs"),
            include_str!("views/dialog.rs"),
            include_str!("views/help.rs"),
            include_str!("views/status_bar.rs"),
            include_str!("views/too_small.rs"),
        ];
        let token_like = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
        let mut asked = Vec::new();
        for source in sources {
            for (i, _) in source.match_indices("style(\"") {
                let rest = &source[i + 7..];
                asked.extend(rest.split('"').next().filter(|t| token_like(t)));
            }
            // Tokens chosen by a function (`status_token`, `tone_token`) are dotted or plain literals.
            for literal in source.split('"').skip(1).step_by(2) {
                if token_like(literal) && literal.contains('.') {
                    asked.push(literal);
                }
            }
        }
        assert!(asked.len() > 20, "the scan found the views' tokens: {asked:?}");
        for token in asked {
            assert!(TOKENS.contains(&token), "a view asks for '{token}', which no theme can define");
        }
    }

    #[test]
    fn muted_text_is_the_terminals_own_foreground_at_16_colours_so_no_palette_hides_it() {
        // "dark-gray" (bright black) is the background of some palettes; a 16-colour muted colour must
        // not be a palette colour at all.
        for (name, _) in BUILTIN {
            let theme = Theme::load(name, Depth::Ansi16).unwrap();
            for token in ["muted", "border", "status.rejected", "status.expired"] {
                let style = theme.style(token);
                assert!(
                    matches!(style.fg, None | Some(Color::Reset)),
                    "{name} {token} is {:?} at 16 colours",
                    style.fg
                );
                assert!(style.bg.is_none(), "{name} {token}");
            }
            for token in TOKENS {
                let style = theme.style(token);
                assert!(
                    style.fg != Some(Color::DarkGray) || style.bg.is_some(),
                    "{name} {token}: bright black on the terminal's background can vanish"
                );
            }
        }
    }

    #[test]
    fn an_unknown_token_or_colour_is_an_error_naming_it() {
        let err = Theme::from_toml("mine", "[tokens]\n\"diff.add\" = { fg = \"green\" }\n", Depth::Ansi16).unwrap_err();
        assert!(err.to_string().contains("unknown token 'diff.add'"), "{err}");
        let err = Theme::from_toml("mine", "[tokens]\ntext = { fg = \"chartreuse\" }\n", Depth::Ansi16).unwrap_err();
        assert!(err.to_string().contains("unknown colour 'chartreuse'"), "{err}");
    }

    #[test]
    fn a_missing_token_falls_back_to_its_parent() {
        let theme =
            Theme::from_toml("mine", "[tokens]\ntext = {}\npolicy = { fg = \"red\", bold = true }\n", Depth::Ansi16)
                .unwrap();
        assert_eq!(theme.style("policy.hard").fg, Some(Color::Red));
    }
}
