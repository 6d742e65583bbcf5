package model

import "fmt"

// Community is a standard (RFC 1997) community value.
type Community uint32

func (c Community) String() string { return fmt.Sprintf("%d:%d", uint32(c)>>16, uint32(c)&0xffff) }

func (c Community) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// LargeCommunity is an RFC 8092 large community.
type LargeCommunity struct {
	GlobalAdmin, Local1, Local2 uint32
}

func (c LargeCommunity) String() string {
	return fmt.Sprintf("%d:%d:%d", c.GlobalAdmin, c.Local1, c.Local2)
}

func (c LargeCommunity) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Less orders large communities numerically.
func (c LargeCommunity) Less(o LargeCommunity) bool {
	if c.GlobalAdmin != o.GlobalAdmin {
		return c.GlobalAdmin < o.GlobalAdmin
	}
	if c.Local1 != o.Local1 {
		return c.Local1 < o.Local1
	}
	return c.Local2 < o.Local2
}
