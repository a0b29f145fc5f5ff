//! Go template text into a tree: the actions real hook apps use (`{{.a.b}}`, variables,
//! pipelines, `if`/`else if`/`else`, `range`, `with`, `define`, `template`, `block`,
//! `break`/`continue`, comments, `{{-`/`-}}` trimming), with Go's error texts where a
//! template is malformed.

use std::collections::HashMap;

/// A parsed set of templates: the nameless (or first file's) one and those it defines.
#[derive(Debug, Default)]
pub struct Set {
    pub trees: HashMap<String, Vec<Node>>,
}

#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    /// `{{pipeline}}`: its value written (nothing for a declaration).
    Action(Pipeline),
    If(Branches),
    Range {
        pipe: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    With(Branches),
    Template {
        name: String,
        pipe: Option<Pipeline>,
    },
    Break,
    Continue,
}

/// `if`/`with` and their `else if`/`else with` arms: the first whose value is true runs.
#[derive(Debug, Clone)]
pub struct Branches {
    pub arms: Vec<(Pipeline, Vec<Node>)>,
    pub otherwise: Vec<Node>,
}

#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    /// `$x := ...` / `$i, $e := ...` (declared), or `$x = ...` (assigned).
    pub vars: Vec<String>,
    pub declare: bool,
    pub cmds: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone)]
pub enum Arg {
    /// `.a.b` (empty: the dot itself).
    Field(Vec<String>),
    /// `$x.a.b`.
    Var(String, Vec<String>),
    Str(String),
    Num(f64),
    Bool(bool),
    Nil,
    /// A function name (`len`, `printf`...).
    Func(String),
    /// `(pipeline).a.b`.
    Sub(Box<Pipeline>, Vec<String>),
}

/// Parses `text` as template `name`, adding it and what it defines to `set`.
pub fn parse_into(set: &mut Set, name: &str, text: &str) -> Result<(), String> {
    let pieces = split(text, name)?;
    let mut p = Parser {
        pieces,
        at: 0,
        name,
        set,
        pending: Vec::new(),
    };
    let (body, end) = p.list()?;
    if let Some(end) = end {
        return Err(format!("template: {name}: unexpected {{{{{end}}}}}"));
    }
    // A file that only defines templates keeps the name of an earlier one with content.
    let empty = body
        .iter()
        .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()));
    if !empty || !p.set.trees.contains_key(name) {
        p.set.trees.insert(name.to_owned(), body);
    }
    Ok(())
}

/// Text and actions, trimmed as `{{-` and `-}}` ask.
enum Piece {
    Text(String),
    Action(Vec<Tok>, usize),
}

fn split(text: &str, name: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut line = 1;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut before = &rest[..open];
        if trim_next {
            before = before.trim_start();
        }
        let mut inner = &rest[open + 2..];
        let trim_before =
            inner.starts_with("- ") || inner.starts_with("-\t") || inner.starts_with("-\n");
        if trim_before {
            before = before.trim_end();
            inner = &inner[1..];
        }
        line += rest[..open].matches('\n').count();
        if !before.is_empty() {
            out.push(Piece::Text(before.to_owned()));
        }
        let close =
            find_close(inner).ok_or_else(|| format!("template: {name}:{line}: unclosed action"))?;
        let mut action = &inner[..close];
        trim_next = false;
        if action.ends_with(" -") || action.ends_with("\t-") || action.ends_with("\n-") {
            action = &action[..action.len() - 1];
            trim_next = true;
        }
        let trimmed = action.trim();
        if !(trimmed.starts_with("/*") && trimmed.ends_with("*/")) {
            let toks = lex(action).map_err(|e| format!("template: {name}:{line}: {e}"))?;
            out.push(Piece::Action(toks, line));
        }
        line += inner[..close].matches('\n').count();
        rest = &inner[close + 2..];
    }
    let last = if trim_next { rest.trim_start() } else { rest };
    if !last.is_empty() {
        out.push(Piece::Text(last.to_owned()));
    }
    Ok(out)
}

/// The `}}` closing an action, past any quoted string in it.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'`' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' && q != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Field(Vec<String>),
    Var(String, Vec<String>),
    Str(String),
    Num(f64),
    Open,
    /// `)` with the fields after it (`(...).a`).
    Close(Vec<String>),
    Pipe,
    Declare,
    Assign,
    Comma,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let fields = |c: &[char], i: &mut usize| -> Vec<String> {
        let mut f = Vec::new();
        while *i < c.len() && c[*i] == '.' {
            *i += 1;
            let start = *i;
            while *i < c.len() && (c[*i].is_alphanumeric() || c[*i] == '_') {
                *i += 1;
            }
            f.push(c[start..*i].iter().collect());
        }
        f
    };
    while i < c.len() {
        let ch = c[i];
        match ch {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                i += 1;
                out.push(Tok::Close(fields(&c, &mut i)));
            }
            '|' => {
                out.push(Tok::Pipe);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            ':' if c.get(i + 1) == Some(&'=') => {
                out.push(Tok::Declare);
                i += 2;
            }
            '=' => {
                out.push(Tok::Assign);
                i += 1;
            }
            '.' if c.get(i + 1).is_none_or(|n| !n.is_ascii_digit()) => {
                let f = fields(&c, &mut i);
                // `.` alone is the dot.
                let f = if f == [String::new()] { Vec::new() } else { f };
                out.push(Tok::Field(f));
            }
            '$' => {
                i += 1;
                let start = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                let name: String = c[start..i].iter().collect();
                out.push(Tok::Var(format!("${name}"), fields(&c, &mut i)));
            }
            '"' => {
                let start = i;
                i += 1;
                while i < c.len() && c[i] != '"' {
                    if c[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let raw: String = c[start..(i + 1).min(c.len())].iter().collect();
                i += 1;
                let v: String =
                    serde_json::from_str(&raw).map_err(|_| format!("bad string {raw}"))?;
                out.push(Tok::Str(v));
            }
            '`' => {
                let start = i + 1;
                i += 1;
                while i < c.len() && c[i] != '`' {
                    i += 1;
                }
                out.push(Tok::Str(c[start..i.min(c.len())].iter().collect()));
                i += 1;
            }
            '\'' => {
                // A character constant: its code point, as Go's.
                let ch = *c.get(i + 1).ok_or("bad character constant")?;
                out.push(Tok::Num(f64::from(u32::from(ch))));
                i += 3;
            }
            _ if ch.is_ascii_digit() || ch == '-' || ch == '+' || ch == '.' => {
                let start = i;
                i += 1;
                while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '.' || c[i] == '_') {
                    i += 1;
                }
                let text: String = c[start..i].iter().filter(|c| **c != '_').collect();
                let n =
                    parse_number(&text).ok_or_else(|| format!("bad number syntax: {text:?}"))?;
                out.push(Tok::Num(n));
            }
            _ if ch.is_alphabetic() || ch == '_' => {
                let start = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Word(c[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected {other:?} in command")),
        }
    }
    Ok(out)
}

fn parse_number(text: &str) -> Option<f64> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let v = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(h, 16).ok()? as f64
    } else {
        digits.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

struct Parser<'a> {
    pieces: Vec<Piece>,
    at: usize,
    name: &'a str,
    set: &'a mut Set,
    /// The words after the last `{{else}}` (`if cond` of an `else if`).
    pending: Vec<Tok>,
}

impl Parser<'_> {
    /// Nodes up to an `{{end}}` or `{{else ...}}`, which is returned (its words).
    fn list(&mut self) -> Result<(Vec<Node>, Option<String>), String> {
        let mut nodes = Vec::new();
        while self.at < self.pieces.len() {
            let (toks, line) = match &self.pieces[self.at] {
                Piece::Text(t) => {
                    nodes.push(Node::Text(t.clone()));
                    self.at += 1;
                    continue;
                }
                Piece::Action(t, line) => (t.clone(), *line),
            };
            self.at += 1;
            let name = self.name;
            let err = move |m: &str| format!("template: {name}:{line}: {m}");
            let keyword = match toks.first() {
                Some(Tok::Word(w)) => w.as_str(),
                None => return Err(err("missing value for command")),
                _ => "",
            };
            match keyword {
                "end" => return Ok((nodes, Some("end".into()))),
                "else" => {
                    let rest = match toks.get(1) {
                        Some(Tok::Word(w)) => w.clone(),
                        _ => String::new(),
                    };
                    self.pending = toks[1..].to_vec();
                    return Ok((nodes, Some(format!("else {rest}").trim_end().to_owned())));
                }
                "if" | "with" => {
                    let b = self.branches(keyword, &toks[1..], &err)?;
                    nodes.push(if keyword == "if" {
                        Node::If(b)
                    } else {
                        Node::With(b)
                    });
                }
                "range" => {
                    let pipe = pipeline(&toks[1..]).map_err(|m| err(&m))?;
                    if pipe.cmds.is_empty() {
                        return Err(err("missing value for range"));
                    }
                    let (body, end) = self.list()?;
                    let otherwise = match end.as_deref() {
                        Some("end") => Vec::new(),
                        Some("else") => self.closed("range", &err)?,
                        _ => return Err(err("unexpected EOF")),
                    };
                    nodes.push(Node::Range {
                        pipe,
                        body,
                        otherwise,
                    });
                }
                "define" | "block" => {
                    let Some(Tok::Str(name)) = toks.get(1) else {
                        return Err(err(&format!("unexpected {keyword} clause")));
                    };
                    let (body, end) = self.list()?;
                    if end.as_deref() != Some("end") {
                        return Err(err(&format!("unexpected EOF in {keyword}")));
                    }
                    self.set.trees.insert(name.clone(), body);
                    if keyword == "block" {
                        let pipe = pipeline(&toks[2..]).map_err(|m| err(&m))?;
                        nodes.push(Node::Template {
                            name: name.clone(),
                            pipe: (!pipe.cmds.is_empty()).then_some(pipe),
                        });
                    }
                }
                "template" => {
                    let Some(Tok::Str(name)) = toks.get(1) else {
                        return Err(err("unexpected template clause"));
                    };
                    let pipe = pipeline(&toks[2..]).map_err(|m| err(&m))?;
                    nodes.push(Node::Template {
                        name: name.clone(),
                        pipe: (!pipe.cmds.is_empty()).then_some(pipe),
                    });
                }
                "break" => nodes.push(Node::Break),
                "continue" => nodes.push(Node::Continue),
                _ => nodes.push(Node::Action(pipeline(&toks).map_err(|m| err(&m))?)),
            }
        }
        Ok((nodes, None))
    }

    /// `if`/`with` with their `else if`/`else with` chains.
    fn branches(
        &mut self,
        keyword: &str,
        toks: &[Tok],
        err: &dyn Fn(&str) -> String,
    ) -> Result<Branches, String> {
        let mut arms = Vec::new();
        let mut cond = toks.to_vec();
        loop {
            let pipe = pipeline(&cond).map_err(|m| err(&m))?;
            if pipe.cmds.is_empty() {
                return Err(err(&format!("missing value for {keyword}")));
            }
            let (body, end) = self.list()?;
            arms.push((pipe, body));
            match end.as_deref() {
                Some("end") => {
                    return Ok(Branches {
                        arms,
                        otherwise: Vec::new(),
                    });
                }
                Some(e) if e == format!("else {keyword}") => {
                    cond = self.pending[1..].to_vec();
                }
                Some("else") => {
                    let otherwise = self.closed(keyword, err)?;
                    return Ok(Branches { arms, otherwise });
                }
                Some(other) => return Err(err(&format!("unexpected {{{{{other}}}}}"))),
                None => return Err(err("unexpected EOF")),
            }
        }
    }

    /// An `else` branch up to its `{{end}}`.
    fn closed(&mut self, keyword: &str, err: &dyn Fn(&str) -> String) -> Result<Vec<Node>, String> {
        let (body, end) = self.list()?;
        match end.as_deref() {
            Some("end") => Ok(body),
            Some(_) => Err(err(&format!(
                "expected end; found {{{{else}}}} in {keyword}"
            ))),
            None => Err(err("unexpected EOF")),
        }
    }
}

/// A pipeline: optional declaration, then commands separated by `|`.
fn pipeline(toks: &[Tok]) -> Result<Pipeline, String> {
    let mut p = Pipeline::default();
    let mut rest = toks;
    // `$x :=`, `$x =`, `$i, $e :=`
    let decl_end = toks
        .iter()
        .position(|t| matches!(t, Tok::Declare | Tok::Assign));
    if let Some(end) = decl_end {
        let head = &toks[..end];
        let vars: Vec<String> = head
            .iter()
            .filter_map(|t| match t {
                Tok::Var(v, f) if f.is_empty() => Some(v.clone()),
                _ => None,
            })
            .collect();
        let commas = head.iter().filter(|t| **t == Tok::Comma).count();
        if !vars.is_empty() && vars.len() == commas + 1 && vars.len() + commas == head.len() {
            p.vars = vars;
            p.declare = toks[end] == Tok::Declare;
            rest = &toks[end + 1..];
        }
    }
    let mut i = 0;
    let mut cmd = Vec::new();
    while i < rest.len() {
        match &rest[i] {
            Tok::Pipe => {
                if cmd.is_empty() {
                    return Err("missing command".into());
                }
                p.cmds.push(std::mem::take(&mut cmd));
                i += 1;
            }
            Tok::Open => {
                let close = matching(rest, i).ok_or("unclosed left paren")?;
                let inner = pipeline(&rest[i + 1..close])?;
                let Tok::Close(fields) = &rest[close] else {
                    return Err("unclosed left paren".into());
                };
                cmd.push(Arg::Sub(Box::new(inner), fields.clone()));
                i = close + 1;
            }
            t => {
                cmd.push(arg(t)?);
                i += 1;
            }
        }
    }
    if !cmd.is_empty() {
        p.cmds.push(cmd);
    } else if !p.cmds.is_empty() {
        return Err("missing command".into());
    }
    Ok(p)
}

fn matching(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::Open => depth += 1,
            Tok::Close(_) => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn arg(t: &Tok) -> Result<Arg, String> {
    Ok(match t {
        Tok::Field(f) => Arg::Field(f.clone()),
        Tok::Var(v, f) => Arg::Var(v.clone(), f.clone()),
        Tok::Str(s) => Arg::Str(s.clone()),
        Tok::Num(n) => Arg::Num(*n),
        Tok::Word(w) => match w.as_str() {
            "true" => Arg::Bool(true),
            "false" => Arg::Bool(false),
            "nil" => Arg::Nil,
            _ => Arg::Func(w.clone()),
        },
        other => return Err(format!("unexpected {other:?} in operand")),
    })
}
