package model

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Changes says which objects differ between a Snapshot and the one its source returned before,
// so that what depends only on the others need not be worked out again. Services and their
// EndpointSlices are named one by one: they are the many objects of a node and they change
// often; any other change is a single flag. The zero value says that nothing changed.
type Changes struct {
	// All: anything may differ (the first snapshot, a source read again from scratch). The
	// other fields are then not set.
	All bool
	// Other: an object of another kind was added, changed or removed.
	Other bool
	// Services and EndpointSlices are those added, changed or removed, by namespace and name:
	// the object as it is now, nil when it was removed.
	Services       map[types.NamespacedName]*corev1.Service
	EndpointSlices map[types.NamespacedName]*discoveryv1.EndpointSlice
}

// AllChanged is the Changes of a snapshot to be taken whole.
var AllChanged = Changes{All: true}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return !c.All && !c.Other && len(c.Services) == 0 && len(c.EndpointSlices) == 0
}

// Add records the changes of a later snapshot on top of c: the result is what changed from the
// snapshot before c to the one after later.
func (c *Changes) Add(later Changes) {
	switch {
	case c.All:
		return
	case later.All:
		*c = AllChanged
		return
	}
	c.Other = c.Other || later.Other
	if len(later.Services) > 0 {
		if c.Services == nil {
			c.Services = make(map[types.NamespacedName]*corev1.Service, len(later.Services))
		}
		maps.Copy(c.Services, later.Services)
	}
	if len(later.EndpointSlices) > 0 {
		if c.EndpointSlices == nil {
			c.EndpointSlices = make(map[types.NamespacedName]*discoveryv1.EndpointSlice, len(later.EndpointSlices))
		}
		maps.Copy(c.EndpointSlices, later.EndpointSlices)
	}
}
