//! What the hook files registered, read from the loader runtime: routes, middlewares, crons
//! and event hooks, each handler as an index into the sources every executor compiles.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// One step of a route's chain, as `__runRoute` reads it.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Step {
    Handler {
        #[serde(rename = "fn")]
        index: usize,
    },
    Middleware {
        #[serde(rename = "fn")]
        index: usize,
        #[serde(skip)]
        priority: i64,
    },
    /// The end of a chain wrapping a built-in route: it answers.
    Inner { inner: bool },
    /// One of `$apis`' middlewares (`requireAuth`...), implemented in `events.js`.
    Native {
        #[serde(rename = "native")]
        name: String,
        args: Json,
    },
}

impl Step {
    pub fn priority(&self) -> i64 {
        match self {
            Step::Middleware { priority, .. } => *priority,
            _ => 0,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Registration {
    Route {
        method: String,
        path: String,
        handler: usize,
        middlewares: Vec<Step>,
    },
    Use {
        middlewares: Vec<Step>,
    },
    Cron {
        id: String,
        expr: String,
        handler: usize,
    },
    CronRemove {
        id: String,
    },
    Hook {
        name: String,
        tags: Vec<String>,
        handler: usize,
    },
}

/// The loader's `__registry` as written by `events.js`.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Raw {
    Route {
        method: String,
        path: String,
        handler: String,
        middlewares: Vec<RawMiddleware>,
    },
    Use {
        middlewares: Vec<RawMiddleware>,
    },
    Cron {
        id: String,
        expr: String,
        handler: String,
    },
    CronRemove {
        id: String,
    },
    Hook {
        name: String,
        tags: Vec<String>,
        handler: String,
    },
}

#[derive(Deserialize)]
struct RawMiddleware {
    #[serde(default)]
    src: Option<String>,
    #[serde(default)]
    priority: i64,
    #[serde(default)]
    native: Option<String>,
    #[serde(default)]
    args: Json,
}

/// The registrations and the handler sources they index.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    pub entries: Vec<Registration>,
    pub sources: Vec<String>,
}

impl Registry {
    pub fn parse(json: &str) -> Result<Registry, String> {
        let raw: Vec<Raw> = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut registry = Registry::default();
        for r in raw {
            let entry = match r {
                Raw::Route {
                    method,
                    path,
                    handler,
                    middlewares,
                } => Registration::Route {
                    method,
                    path,
                    handler: registry.source(handler),
                    middlewares: registry.middlewares(middlewares),
                },
                Raw::Use { middlewares } => Registration::Use {
                    middlewares: registry.middlewares(middlewares),
                },
                Raw::Cron { id, expr, handler } => Registration::Cron {
                    id,
                    expr,
                    handler: registry.source(handler),
                },
                Raw::CronRemove { id } => Registration::CronRemove { id },
                Raw::Hook {
                    name,
                    tags,
                    handler,
                } => Registration::Hook {
                    name,
                    tags,
                    handler: registry.source(handler),
                },
            };
            registry.entries.push(entry);
        }
        Ok(registry)
    }

    fn source(&mut self, src: String) -> usize {
        // A handler is compiled as an expression: `(src)`.
        self.sources.push(format!("({src})"));
        self.sources.len() - 1
    }

    fn middlewares(&mut self, list: Vec<RawMiddleware>) -> Vec<Step> {
        list.into_iter()
            .map(|m| match (m.native, m.src) {
                (Some(name), _) => Step::Native {
                    name,
                    args: if m.args.is_null() {
                        Json::Array(Vec::new())
                    } else {
                        m.args
                    },
                },
                (None, src) => Step::Middleware {
                    index: self
                        .source(src.unwrap_or_else(|| "function(e){return e.next()}".into())),
                    priority: m.priority,
                },
            })
            .collect()
    }
}
