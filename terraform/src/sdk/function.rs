//! Provider-defined functions (`provider::<name>::<function>(...)`, Terraform 1.8+), with typed
//! parameters: the arguments arrive as one tuple of the author's types (a variadic parameter as a
//! trailing `Vec`), the result leaves as the author's type.
//!
//! ```
//! use go_plugin_terraform::sdk::{Function, FunctionError};
//! use go_plugin_terraform::Type;
//! let join = Function::new("join", Type::String, |(sep, parts): (String, Vec<String>)| {
//!     if sep.is_empty() {
//!         return Err(FunctionError::argument(0, "the separator must not be empty"));
//!     }
//!     Ok(parts.join(&sep))
//! })
//! .param("separator", Type::String)
//! .variadic("parts", Type::String)
//! .summary("Joins strings");
//! ```

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::typed::{from_value, to_value};
use crate::schema::{Function as WireFunction, Parameter};
use crate::{Type, Value};

/// Why a function call failed: Terraform shows `message`, pointing at argument `argument` when
/// given (counted from 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// The message.
    pub message: String,
    /// The argument at fault.
    pub argument: Option<usize>,
}

impl FunctionError {
    /// An error of the call as a whole.
    pub fn new(message: impl Into<String>) -> FunctionError {
        FunctionError {
            message: message.into(),
            argument: None,
        }
    }

    /// An error of argument `index`.
    pub fn argument(index: usize, message: impl Into<String>) -> FunctionError {
        FunctionError {
            message: message.into(),
            argument: Some(index),
        }
    }
}

type Call = Arc<dyn Fn(Value, &Type) -> Result<Value, FunctionError> + Send + Sync>;

/// One function of the provider.
#[derive(Clone)]
pub struct Function {
    /// Its name.
    pub name: String,
    params: Vec<(String, Type)>,
    variadic: Option<(String, Type)>,
    returns: Type,
    summary: String,
    description: String,
    call: Call,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name)
            .finish()
    }
}

impl Function {
    /// A function returning `returns`, computed by `f` from the arguments as the tuple `A`
    /// (declare each parameter with [`Function::param`], a variadic one with
    /// [`Function::variadic`]: it arrives as a trailing `Vec`).
    pub fn new<A, R, F>(name: impl Into<String>, returns: Type, f: F) -> Function
    where
        A: DeserializeOwned,
        R: Serialize,
        F: Fn(A) -> Result<R, FunctionError> + Send + Sync + 'static,
    {
        let returns_ty = returns.clone();
        let call = move |args: Value, types: &Type| -> Result<Value, FunctionError> {
            let args: A = from_value(&args, types)
                .map_err(|e| FunctionError::new(format!("arguments: {e}")))?;
            to_value(&f(args)?, &returns_ty)
                .map_err(|e| FunctionError::new(format!("the function's result: {e}")))
        };
        Function {
            name: name.into(),
            params: Vec::new(),
            variadic: None,
            returns,
            summary: String::new(),
            description: String::new(),
            call: Arc::new(call),
        }
    }

    /// Declares the next parameter.
    pub fn param(mut self, name: impl Into<String>, ty: Type) -> Function {
        self.params.push((name.into(), ty));
        self
    }

    /// Declares a variadic last parameter: any number of arguments of type `ty`.
    pub fn variadic(mut self, name: impl Into<String>, ty: Type) -> Function {
        self.variadic = Some((name.into(), ty));
        self
    }

    /// A one-line summary.
    pub fn summary(mut self, summary: impl Into<String>) -> Function {
        self.summary = summary.into();
        self
    }

    /// A Markdown description.
    pub fn description(mut self, markdown: impl Into<String>) -> Function {
        self.description = markdown.into();
        self
    }

    /// Its Markdown description.
    pub(crate) fn description_text(&self) -> &str {
        &self.description
    }

    /// Calls it with Terraform's arguments (variadic ones last, one by one).
    pub fn call(&self, mut args: Vec<Value>) -> Result<Value, FunctionError> {
        if args.len() < self.params.len()
            || (self.variadic.is_none() && args.len() > self.params.len())
        {
            return Err(FunctionError::new(format!(
                "{} takes {}{} arguments, got {}",
                self.name,
                self.params.len(),
                if self.variadic.is_some() {
                    " or more"
                } else {
                    ""
                },
                args.len()
            )));
        }
        let mut types: Vec<Type> = self.params.iter().map(|(_, t)| t.clone()).collect();
        if let Some((_, ty)) = &self.variadic {
            let rest = args.split_off(self.params.len());
            args.push(Value::List(rest));
            types.push(Type::list(ty.clone()));
        }
        for (i, arg) in args.iter().enumerate().take(self.params.len()) {
            if arg.is_null() {
                return Err(FunctionError::argument(i, "argument must not be null"));
            }
        }
        (self.call)(Value::Tuple(args), &Type::Tuple(types))
    }

    /// Its signature as both protocol versions describe it.
    pub(crate) fn to_wire(&self) -> WireFunction {
        let parameter = |(name, ty): &(String, Type)| Parameter {
            name: name.clone(),
            ty: ty.clone(),
            allow_null: false,
            allow_unknown: false,
        };
        WireFunction {
            parameters: self.params.iter().map(parameter).collect(),
            variadic: self.variadic.as_ref().map(parameter),
            return_type: self.returns.clone(),
            summary: self.summary.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join() -> Function {
        Function::new(
            "join",
            Type::String,
            |(sep, parts): (String, Vec<String>)| {
                if sep.is_empty() {
                    return Err(FunctionError::argument(0, "empty separator"));
                }
                Ok(parts.join(&sep))
            },
        )
        .param("separator", Type::String)
        .variadic("parts", Type::String)
    }

    #[test]
    fn typed_arguments_variadic_last() {
        let got = join()
            .call(vec!["-".into(), "a".into(), "b".into(), "c".into()])
            .unwrap();
        assert_eq!(got, Value::string("a-b-c"));
        assert_eq!(join().call(vec!["-".into()]).unwrap(), Value::string(""));
    }

    #[test]
    fn errors_name_the_argument() {
        let err = join().call(vec!["".into(), "a".into()]).unwrap_err();
        assert_eq!(err.argument, Some(0));
        let err = join().call(vec![]).unwrap_err();
        assert!(err.message.contains("1 or more"), "{}", err.message);
    }
}
