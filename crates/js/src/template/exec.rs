//! Runs a parsed template over JSON data as Go's `text/template` does (truth, fields of maps,
//! `range` over arrays and maps in key order, the built-in functions), each written value
//! escaped for its place in the HTML (`escape`).

use serde_json::Value as Json;

use super::escape::{self, Context};
use super::parse::{Arg, Branches, Node, Pipeline, Set};

/// The deepest `{{template}}` nesting (Go stops a runaway recursion the same way).
const MAX_DEPTH: usize = 1000;

/// A value in a pipeline: data, or text `raw` marked safe (written as it is).
#[derive(Debug, Clone)]
enum Val {
    Data(Json),
    Safe(String),
}

impl Val {
    fn json(&self) -> Json {
        match self {
            Val::Data(j) => j.clone(),
            Val::Safe(s) => Json::String(s.clone()),
        }
    }
}

enum Flow {
    Normal,
    Break,
    Continue,
}

pub fn render(set: &Set, name: &str, data: &Json) -> Result<String, String> {
    let tree = set
        .trees
        .get(name)
        .ok_or_else(|| format!("template: {name:?} is an incomplete or empty template"))?;
    let mut exec = Exec {
        set,
        name,
        out: String::new(),
        ctx: Context::default(),
        vars: vec![("$".into(), data.clone())],
        depth: 0,
    };
    exec.walk(tree, data)?;
    Ok(exec.out)
}

struct Exec<'a> {
    set: &'a Set,
    name: &'a str,
    out: String,
    ctx: Context,
    vars: Vec<(String, Json)>,
    depth: usize,
}

impl Exec<'_> {
    fn fail(&self, m: impl std::fmt::Display) -> String {
        format!("template: {}: {m}", self.name)
    }

    fn walk(&mut self, nodes: &[Node], dot: &Json) -> Result<Flow, String> {
        let scope = self.vars.len();
        let flow = self.walk_scoped(nodes, dot);
        self.vars.truncate(scope);
        flow
    }

    fn walk_scoped(&mut self, nodes: &[Node], dot: &Json) -> Result<Flow, String> {
        for node in nodes {
            let flow = match node {
                Node::Text(t) => {
                    let written = self.ctx.feed(t);
                    self.out.push_str(&written);
                    Flow::Normal
                }
                Node::Action(p) => {
                    let v = self.pipeline(p, dot)?;
                    if p.vars.is_empty() {
                        self.write(&v);
                    }
                    Flow::Normal
                }
                Node::If(b) => self.branches(b, dot, false)?,
                Node::With(b) => self.branches(b, dot, true)?,
                Node::Range {
                    pipe,
                    body,
                    otherwise,
                } => self.range(pipe, body, otherwise, dot)?,
                Node::Template { name, pipe } => {
                    let arg = match pipe {
                        Some(p) => self.pipeline(p, dot)?.json(),
                        None => Json::Null,
                    };
                    let tree = self
                        .set
                        .trees
                        .get(name)
                        .ok_or_else(|| self.fail(format!("no such template {name:?}")))?;
                    if self.depth >= MAX_DEPTH {
                        return Err(self.fail("exceeded maximum template depth"));
                    }
                    self.depth += 1;
                    // A template sees its own `$`.
                    let outer = std::mem::replace(&mut self.vars, vec![("$".into(), arg.clone())]);
                    let flow = self.walk(tree, &arg);
                    self.vars = outer;
                    self.depth -= 1;
                    flow?;
                    Flow::Normal
                }
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
            };
            if !matches!(flow, Flow::Normal) {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn write(&mut self, v: &Val) {
        let text = match v {
            Val::Safe(s) => s.clone(),
            Val::Data(j) => {
                let printed = print_top(j);
                self.ctx.escape(&printed, Some(j))
            }
        };
        self.out.push_str(&text);
    }

    fn branches(&mut self, b: &Branches, dot: &Json, with: bool) -> Result<Flow, String> {
        let scope = self.vars.len();
        for (cond, body) in &b.arms {
            let v = self.pipeline(cond, dot)?.json();
            if truth(&v) {
                let flow = self.walk(body, if with { &v } else { dot });
                self.vars.truncate(scope);
                return flow;
            }
        }
        self.vars.truncate(scope);
        self.walk(&b.otherwise, dot)
    }

    fn range(
        &mut self,
        pipe: &Pipeline,
        body: &[Node],
        otherwise: &[Node],
        dot: &Json,
    ) -> Result<Flow, String> {
        let scope = self.vars.len();
        let mut plain = pipe.clone();
        plain.vars.clear();
        let v = self.pipeline(&plain, dot)?.json();
        let items: Vec<(Json, Json)> = match v {
            Json::Array(a) => a
                .into_iter()
                .enumerate()
                .map(|(i, e)| (Json::from(i), e))
                .collect(),
            Json::Object(m) => {
                let mut pairs: Vec<(String, Json)> = m.into_iter().collect();
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                pairs
                    .into_iter()
                    .map(|(k, e)| (Json::String(k), e))
                    .collect()
            }
            Json::Number(n) if n.as_i64().is_some() => (0..n.as_i64().unwrap_or(0).max(0))
                .map(|i| (Json::from(i), Json::from(i)))
                .collect(),
            Json::Null => Vec::new(),
            other => return Err(self.fail(format!("range can't iterate over {}", print(&other)))),
        };
        if items.is_empty() {
            return self.walk(otherwise, dot);
        }
        for (key, elem) in items {
            match pipe.vars.as_slice() {
                [e] => self.vars.push((e.clone(), elem.clone())),
                [k, e, ..] => {
                    self.vars.push((k.clone(), key));
                    self.vars.push((e.clone(), elem.clone()));
                }
                [] => {}
            }
            let flow = self.walk(body, &elem);
            self.vars.truncate(scope);
            if let Flow::Break = flow? {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    fn pipeline(&mut self, p: &Pipeline, dot: &Json) -> Result<Val, String> {
        let mut value: Option<Val> = None;
        for cmd in &p.cmds {
            value = Some(self.command(cmd, value, dot)?);
        }
        let value = value.unwrap_or(Val::Data(Json::Null));
        match p.vars.as_slice() {
            [] => {}
            [name] if !p.declare => {
                let slot = self
                    .vars
                    .iter_mut()
                    .rev()
                    .find(|(n, _)| n == name)
                    .ok_or_else(|| {
                        format!("template: {}: undefined variable: {name}", self.name)
                    })?;
                slot.1 = value.json();
            }
            vars => {
                for name in vars {
                    self.vars.push((name.clone(), value.json()));
                }
            }
        }
        Ok(value)
    }

    fn command(&mut self, cmd: &[Arg], piped: Option<Val>, dot: &Json) -> Result<Val, String> {
        let Some(first) = cmd.first() else {
            return Err(self.fail("empty command"));
        };
        if let Arg::Func(name) = first {
            if name == "and" || name == "or" {
                return self.and_or(name == "and", cmd, piped, dot);
            }
            let mut args = Vec::new();
            for a in &cmd[1..] {
                args.push(self.operand(a, dot)?);
            }
            if let Some(p) = piped {
                args.push(p);
            }
            return call(name, args).map_err(|m| self.fail(format!("error calling {name}: {m}")));
        }
        if cmd.len() > 1 || piped.is_some() {
            return Err(self.fail(format!("can't give argument to non-function {first:?}")));
        }
        self.operand(first, dot)
    }

    /// `and`/`or` stop at the first operand that decides them, as Go's.
    fn and_or(
        &mut self,
        and: bool,
        cmd: &[Arg],
        piped: Option<Val>,
        dot: &Json,
    ) -> Result<Val, String> {
        let mut piped = piped;
        let mut ops: Vec<Option<&Arg>> = cmd[1..].iter().map(Some).collect();
        if piped.is_some() {
            ops.push(None);
        }
        let n = ops.len();
        if n == 0 {
            return Err(self.fail("wrong number of args: want at least 1 got 0"));
        }
        let mut last = Val::Data(Json::Null);
        for (i, a) in ops.into_iter().enumerate() {
            last = match a {
                Some(a) => self.operand(a, dot)?,
                None => piped.take().unwrap_or(Val::Data(Json::Null)),
            };
            if i + 1 < n && truth(&last.json()) != and {
                break;
            }
        }
        Ok(last)
    }

    fn operand(&mut self, a: &Arg, dot: &Json) -> Result<Val, String> {
        Ok(match a {
            Arg::Field(path) => Val::Data(self.fields(dot, path)?),
            Arg::Var(name, path) => {
                let v = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| {
                        format!("template: {}: undefined variable: {name}", self.name)
                    })?;
                Val::Data(self.fields(&v, path)?)
            }
            Arg::Str(s) => Val::Data(Json::String(s.clone())),
            Arg::Num(n) => Val::Data(number(*n)),
            Arg::Bool(b) => Val::Data(Json::Bool(*b)),
            Arg::Nil => Val::Data(Json::Null),
            Arg::Func(name) => call(name, Vec::new())
                .map_err(|m| self.fail(format!("error calling {name}: {m}")))?,
            Arg::Sub(p, path) => {
                let v = self.pipeline(p, dot)?;
                if path.is_empty() {
                    v
                } else {
                    Val::Data(self.fields(&v.json(), path)?)
                }
            }
        })
    }

    fn fields(&self, v: &Json, path: &[String]) -> Result<Json, String> {
        let mut v = v.clone();
        for f in path {
            v = match v {
                Json::Object(mut m) => m.remove(f).unwrap_or(Json::Null),
                Json::Null => {
                    return Err(self.fail(format!("nil pointer evaluating interface {{}}.{f}")));
                }
                other => {
                    return Err(self.fail(format!(
                        "can't evaluate field {f} in type {}",
                        go_type(&other)
                    )));
                }
            };
        }
        Ok(v)
    }
}

fn number(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}

fn go_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "interface {}",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float64",
        Json::Number(_) => "int64",
        Json::String(_) => "string",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[string]interface {}",
    }
}

/// Go's truth: false, 0, nil and empty strings, arrays and maps are false.
fn truth(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(m) => !m.is_empty(),
    }
}

/// A written value: `html/template` writes nil as nothing.
fn print_top(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        other => print(other),
    }
}

/// A value as Go's `%v` prints it.
pub fn print(v: &Json) -> String {
    match v {
        Json::Null => "<nil>".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => go_float(f),
            _ => n.to_string(),
        },
        Json::String(s) => s.clone(),
        Json::Array(a) => format!("[{}]", a.iter().map(print).collect::<Vec<_>>().join(" ")),
        Json::Object(m) => {
            let mut pairs: Vec<(&String, &Json)> = m.iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{k}:{}", print(v)))
                .collect();
            format!("map[{}]", inner.join(" "))
        }
    }
}

/// A float as Go's `%v`: integral values of JS numbers print as integers (goja hands them
/// over as int64); others in the shortest form, with an exponent below 1e-4 or from 1e21.
fn go_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        return format!("{f:.0}");
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..21).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        f.to_string()
    }
}

fn as_f64(v: &Json) -> Option<f64> {
    v.as_f64()
}

/// The built-in functions of Go templates that apps use, and PocketBase's `raw`.
fn call(name: &str, args: Vec<Val>) -> Result<Val, String> {
    let json: Vec<Json> = args.iter().map(Val::json).collect();
    let data = |j: Json| Ok(Val::Data(j));
    let want = |n: usize| {
        if json.len() == n {
            Ok(())
        } else {
            Err(format!(
                "wrong number of args for {name}: want {n} got {}",
                json.len()
            ))
        }
    };
    match name {
        "raw" => {
            want(1)?;
            Ok(Val::Safe(print_top(&json[0])))
        }
        "not" => {
            want(1)?;
            data(Json::Bool(!truth(&json[0])))
        }
        "len" => {
            want(1)?;
            let n = match &json[0] {
                Json::String(s) => s.len(),
                Json::Array(a) => a.len(),
                Json::Object(m) => m.len(),
                other => return Err(format!("len of type {}", go_type(other))),
            };
            data(Json::from(n))
        }
        "index" => {
            let Some((first, keys)) = json.split_first() else {
                return Err(format!(
                    "wrong number of args for {name}: want at least 1 got 0"
                ));
            };
            let mut v = first.clone();
            for k in keys {
                v = match (v, k) {
                    (Json::Array(a), Json::Number(n)) => {
                        let i = n.as_i64().unwrap_or(-1);
                        usize::try_from(i)
                            .ok()
                            .and_then(|i| a.get(i).cloned())
                            .ok_or_else(|| format!("index out of range: {i}"))?
                    }
                    (Json::Object(mut m), Json::String(s)) => m.remove(s).unwrap_or(Json::Null),
                    (Json::Null, _) => return Err("index of untyped nil".into()),
                    (other, _) => {
                        return Err(format!("can't index item of type {}", go_type(&other)));
                    }
                };
            }
            data(v)
        }
        "eq" => {
            let Some((first, rest)) = json.split_first() else {
                return Err("missing argument for comparison".into());
            };
            for other in rest {
                if compare(first, other)? == Some(std::cmp::Ordering::Equal) {
                    return data(Json::Bool(true));
                }
            }
            data(Json::Bool(false))
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            want(2)?;
            let ord = compare(&json[0], &json[1])?;
            use std::cmp::Ordering::*;
            let out = match name {
                "ne" => ord != Some(Equal),
                _ if ord.is_none() => return Err("invalid type for comparison".into()),
                "lt" => ord == Some(Less),
                "le" => ord != Some(Greater),
                "gt" => ord == Some(Greater),
                _ => ord != Some(Less),
            };
            data(Json::Bool(out))
        }
        "print" => data(Json::String(sprint(&json))),
        "println" => {
            let parts: Vec<String> = json.iter().map(print).collect();
            data(Json::String(parts.join(" ") + "\n"))
        }
        "printf" => {
            let Some((Json::String(format), rest)) = json.split_first() else {
                return Err("printf needs a format string".into());
            };
            data(Json::String(sprintf(format, rest)))
        }
        "urlquery" => data(Json::String(
            percent_encoding::utf8_percent_encode(&sprint(&json), QUERY)
                .to_string()
                .replace("%20", "+"),
        )),
        "html" => data(Json::String(escape::html(&sprint(&json), false))),
        _ => Err(format!("function {name:?} not defined")),
    }
}

const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Go's comparison of basic values (`None`: not ordered, such as two booleans).
fn compare(a: &Json, b: &Json) -> Result<Option<std::cmp::Ordering>, String> {
    match (a, b) {
        (Json::Number(_), Json::Number(_)) => Ok(as_f64(a).partial_cmp(&as_f64(b))),
        (Json::String(x), Json::String(y)) => Ok(Some(x.cmp(y))),
        (Json::Bool(x), Json::Bool(y)) => Ok((x == y).then_some(std::cmp::Ordering::Equal)),
        (Json::Null, Json::Null) => Ok(Some(std::cmp::Ordering::Equal)),
        (Json::Array(_) | Json::Object(_), _) | (_, Json::Array(_) | Json::Object(_)) => {
            Err("non-comparable type".into())
        }
        _ => Err("incompatible types for comparison".into()),
    }
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
fn sprint(args: &[Json]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !args[i - 1].is_string() && !a.is_string() {
            out.push(' ');
        }
        out.push_str(&print(a));
    }
    out
}

/// Go's `fmt.Sprintf` for the verbs templates use: `%s %v %d %f %.Nf %q %t %x %%`.
fn sprintf(format: &str, args: &[Json]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            precision = digits.parse::<usize>().ok();
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        let text = match verb {
            'd' => match arg.as_f64() {
                Some(f) => format!("{}", f.trunc() as i64),
                None => format!("%!d({})", print(arg)),
            },
            'f' => match arg.as_f64() {
                Some(f) => format!("{f:.*}", precision.unwrap_or(6)),
                None => format!("%!f({})", print(arg)),
            },
            'q' => Json::String(print(arg)).to_string(),
            'x' => match arg {
                Json::String(s) => s.bytes().map(|b| format!("{b:02x}")).collect(),
                other => match other.as_i64() {
                    Some(i) => format!("{i:x}"),
                    None => print(other),
                },
            },
            _ => print(arg),
        };
        out.push_str(&text);
    }
    out
}
