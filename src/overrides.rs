//! `--set PATH=VALUE`: a config field replaced from the command line.
//!
//! PATH names fields with dots and list elements with `[i]`, as error messages and
//! the report's effective config name them (`tlb.l1[0].entries`, `dram.timing`,
//! `tlb.l2.entries` through an `Option`'s `Some`); VALUE is RON. The config is
//! written out in full (defaults filled in), the value put in place of the
//! field's text, and the result parsed and validated exactly as a file is, so a
//! bad value gets the same message a bad file would, with the path named.

use crate::error::RunError;
use cpu_sim::{MachineConfig, parse_config};

/// One `--set PATH=VALUE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// The field's path, as written.
    pub path: String,
    /// The RON text that replaces the field's value.
    pub value: String,
}

impl std::str::FromStr for Override {
    type Err = String;
    /// `PATH=VALUE`, split at the first `=`.
    fn from_str(text: &str) -> Result<Self, String> {
        let (path, value) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` is not PATH=VALUE (for example tlb.l1[0].entries=128)"))?;
        let (path, value) = (path.trim(), value.trim());
        if path.is_empty() || value.is_empty() {
            return Err(format!("`{text}` needs both a PATH and a VALUE"));
        }
        Ok(Self { path: path.to_string(), value: value.to_string() })
    }
}

/// `config` with every override applied in order, validated.
///
/// # Errors
/// A path that names no field (the message says what the fields there are), or a
/// value that does not parse or breaks a rule (the config's own message).
pub fn apply(
    config: &MachineConfig,
    origin: &str,
    overrides: &[Override],
) -> Result<MachineConfig, RunError> {
    if overrides.is_empty() {
        return Ok(config.clone());
    }
    let bad =
        |o: &Override, why: String| RunError::Unsupported(format!("--set {}={}: {why}", o.path, o.value));
    let mut text = canonical(config);
    for o in overrides {
        let tree =
            Parser::new(&text).value().map_err(|e| bad(o, format!("internal: the config text: {e}")))?;
        let span = locate(&tree, &o.path).map_err(|why| bad(o, why))?;
        text.replace_range(span.0..span.1, &o.value);
    }
    parse_config(&text, &format!("{origin} with --set")).map_err(|e| {
        let names: Vec<String> = overrides.iter().map(|o| format!("--set {}={}", o.path, o.value)).collect();
        RunError::Unsupported(format!("{}: {e}", names.join(" ")))
    })
}

/// The config as RON with every field written out (the window too, so that
/// `window.*` can be set).
fn canonical(config: &MachineConfig) -> String {
    let mut text = ron::to_string(config).unwrap_or_default();
    if config.window.is_whole_run() {
        // The window is left out of the serialized form when it is the default.
        if let Some(end) = text.rfind(')') {
            text.insert_str(end, ",window:(skip:0,warmup:0,max:None,interval:None)");
        }
    }
    text
}

/// A RON value with the byte range of its text.
#[derive(Debug)]
struct Node {
    span: (usize, usize),
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// `name(a: x, b: y)` or `(a: x)`.
    Struct(Vec<(String, Node)>),
    /// `Name(x, y)`, `(x, y)`, `Some(x)`.
    Tuple(Vec<Node>),
    /// `[x, y]`.
    List(Vec<Node>),
    /// Anything else: a number, a string, a bare variant, `{...}` maps.
    Atom,
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self { text: text.as_bytes(), pos: 0 }
    }

    fn skip_space(&mut self) {
        while self.pos < self.text.len() && self.text[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn ident(&mut self) -> usize {
        let start = self.pos;
        while self.pos < self.text.len()
            && (self.text[self.pos].is_ascii_alphanumeric() || self.text[self.pos] == b'_')
        {
            self.pos += 1;
        }
        start
    }

    fn value(&mut self) -> Result<Node, String> {
        self.skip_space();
        let start = self.pos;
        match self.peek() {
            Some(b'[') => {
                self.pos += 1;
                let items = self.items(b']')?;
                Ok(Node { span: (start, self.pos), kind: Kind::List(items) })
            }
            Some(b'(') => self.parenthesised(start),
            Some(b'"') => {
                self.pos += 1;
                while let Some(c) = self.peek() {
                    self.pos += 1;
                    match c {
                        b'\\' => self.pos += 1,
                        b'"' => return Ok(Node { span: (start, self.pos), kind: Kind::Atom }),
                        _ => {}
                    }
                }
                Err("an unterminated string".into())
            }
            Some(b'{') => {
                let mut depth = 0;
                while let Some(c) = self.peek() {
                    self.pos += 1;
                    match c {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                return Ok(Node { span: (start, self.pos), kind: Kind::Atom });
                            }
                        }
                        _ => {}
                    }
                }
                Err("an unterminated map".into())
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                self.ident();
                if self.peek() == Some(b'(') {
                    self.parenthesised(start)
                } else {
                    Ok(Node { span: (start, self.pos), kind: Kind::Atom })
                }
            }
            Some(_) => {
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b')' | b']' | b'}') || c.is_ascii_whitespace() {
                        break;
                    }
                    self.pos += 1;
                }
                Ok(Node { span: (start, self.pos), kind: Kind::Atom })
            }
            None => Err("a value is missing".into()),
        }
    }

    /// `(` ... `)`: a struct if its first item is `ident:`, else a tuple.
    fn parenthesised(&mut self, start: usize) -> Result<Node, String> {
        self.pos += 1; // '('
        self.skip_space();
        let save = self.pos;
        let first = self.ident();
        let is_struct = self.pos > first && {
            self.skip_space();
            self.peek() == Some(b':')
        };
        self.pos = save;
        if !is_struct {
            let items = self.items(b')')?;
            return Ok(Node { span: (start, self.pos), kind: Kind::Tuple(items) });
        }
        let mut fields = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some(b')') {
                self.pos += 1;
                break;
            }
            let name_start = self.ident();
            let name = String::from_utf8_lossy(&self.text[name_start..self.pos]).into_owned();
            self.skip_space();
            if self.peek() != Some(b':') {
                return Err(format!("expected `:` after field `{name}`"));
            }
            self.pos += 1;
            let value = self.value()?;
            fields.push((name, value));
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {}
                _ => return Err("expected `,` or `)` in a struct".into()),
            }
        }
        Ok(Node { span: (start, self.pos), kind: Kind::Struct(fields) })
    }

    fn items(&mut self, close: u8) -> Result<Vec<Node>, String> {
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.value()?);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {}
                _ => return Err(format!("expected `,` or `{}`", close as char)),
            }
        }
    }
}

/// The byte range of the value at `path` in `tree`.
fn locate(tree: &Node, path: &str) -> Result<(usize, usize), String> {
    let mut node = tree;
    let mut here = String::new();
    for segment in path.split('.') {
        let (name, indices) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if name.is_empty() {
            return Err(format!("`{path}` has an empty field name"));
        }
        node = field(node, name, &here)?;
        here = if here.is_empty() { name.to_string() } else { format!("{here}.{name}") };
        let mut rest = indices;
        while let Some(stripped) = rest.strip_prefix('[') {
            let close = stripped.find(']').ok_or_else(|| format!("`{segment}` has an unclosed `[`"))?;
            let index: usize = stripped[..close]
                .parse()
                .map_err(|_| format!("`[{}]` in `{segment}` is not a list index", &stripped[..close]))?;
            let items = match &unwrap_some(node).kind {
                Kind::List(items) => items,
                _ => return Err(format!("`{here}` is not a list, so `[{index}]` names nothing")),
            };
            node = items.get(index).ok_or_else(|| {
                format!("`{here}` has {} element(s), so `[{index}]` is out of range", items.len())
            })?;
            here = format!("{here}[{index}]");
            rest = &stripped[close + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("`{segment}` has text after its index"));
        }
    }
    Ok(node.span)
}

/// Through `Some(x)` and one-element wrappers such as `Banked((...))`.
fn unwrap_some(node: &Node) -> &Node {
    match &node.kind {
        Kind::Tuple(items) if items.len() == 1 => unwrap_some(&items[0]),
        _ => node,
    }
}

fn field<'n>(node: &'n Node, name: &str, here: &str) -> Result<&'n Node, String> {
    let at = if here.is_empty() { "the config".to_string() } else { format!("`{here}`") };
    match &unwrap_some(node).kind {
        Kind::Struct(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v).ok_or_else(|| {
            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            format!("{at} has no field `{name}` (its fields: {})", names.join(", "))
        }),
        Kind::Tuple(_) | Kind::List(_) | Kind::Atom => {
            Err(format!("{at} is a value, not a struct with fields, so `.{name}` names nothing"))
        }
    }
}
