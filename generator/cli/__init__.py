"""The `scheduledrun` subcommands the operator package serves: `operator`, the offline `validate`,
`render` and `next` (`offline`, reading files with `manifests`), and `trigger`, `history` and
`resume` against a cluster (`cluster`), with kubectl's flags (`options`)."""
