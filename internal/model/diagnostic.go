package model

import "fmt"

// ObjectRef names a Kubernetes object in diagnostics and provenance.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (r ObjectRef) String() string {
	if r.Namespace != "" {
		return r.Kind + "/" + r.Namespace + "/" + r.Name
	}
	return r.Kind + "/" + r.Name
}

// Severity says whether Cilium would carry on (Warning) or fail the affected BGP instance
// (Error).
type Severity int

const (
	Warning Severity = iota
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Diagnostic is a problem found in the input, tied to the object and field that caused it.
// Messages never contain secret values.
type Diagnostic struct {
	Severity Severity
	Object   ObjectRef
	// Field is a JSON path within the object, e.g. spec.bgpInstances[0].peers[1].peerAddress.
	Field   string
	Message string
}

func (d Diagnostic) String() string {
	if d.Field == "" {
		return fmt.Sprintf("%s: %s: %s", d.Severity, d.Object, d.Message)
	}
	return fmt.Sprintf("%s: %s: %s: %s", d.Severity, d.Object, d.Field, d.Message)
}
