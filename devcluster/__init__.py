"""The development cluster: a real Kubernetes control plane on loopback, built from Go modules,
for the tests, benchmarks and demo. Not part of the product: nothing in generator/ or runner/
imports it."""
