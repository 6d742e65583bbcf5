#!/usr/bin/env bash
# Prints a directory holding the Prometheus Operator's ServiceMonitor and PrometheusRule
# CustomResourceDefinitions, from its released Go module, cached: the chart's optional objects
# are applied to a real API server against them.
set -euo pipefail
version=v0.86.1
exec "$(dirname "$0")/module-files.sh" github.com/prometheus-operator/prometheus-operator "$version" \
	example/prometheus-operator-crd "monitoring-crds/$version" \
	monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml
