//! Which rules run, from `.tflint.hcl` as TFLint sends it (`ApplyGlobalConfig`), pure. The
//! plugin SDK's rules, kept here: a rule is on by its own default; `disabled_by_default` turns
//! every default off; a `rule "<name>" { enabled = ... }` block decides for that rule; `--only`
//! (`only`) keeps just the rules it names.

use crate::proto::apply_global_config::Config;

/// The names of the rules that run, from `(name, enabled by default)` pairs and `config`.
pub(crate) fn enabled_rules<'a>(
    rules: impl IntoIterator<Item = (&'a str, bool)>,
    config: &Config,
) -> Vec<&'a str> {
    rules
        .into_iter()
        .filter(|(name, default)| {
            if !config.only.is_empty() {
                return config.only.iter().any(|only| only == name);
            }
            match config.rules.get(*name) {
                Some(rule) => rule.enabled,
                None => *default && !config.disabled_by_default,
            }
        })
        .map(|(name, _)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::apply_global_config::RuleConfig;

    fn rule(name: &str, enabled: bool) -> (String, RuleConfig) {
        (
            name.into(),
            RuleConfig {
                name: name.into(),
                enabled,
            },
        )
    }

    #[test]
    fn defaults_blocks_disabled_by_default_and_only() {
        let rules = [("a", true), ("b", false), ("c", true)];
        assert_eq!(enabled_rules(rules, &Config::default()), ["a", "c"]);
        let config = Config {
            rules: [rule("b", true), rule("c", false)].into(),
            ..Default::default()
        };
        assert_eq!(enabled_rules(rules, &config), ["a", "b"]);
        let config = Config {
            disabled_by_default: true,
            rules: [rule("c", true)].into(),
            ..Default::default()
        };
        assert_eq!(enabled_rules(rules, &config), ["c"]);
        let config = Config {
            only: vec!["b".into()],
            ..Default::default()
        };
        assert_eq!(enabled_rules(rules, &config), ["b"]);
    }
}
