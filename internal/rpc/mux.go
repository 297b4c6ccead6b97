package rpc

import "fmt"

// Mux is the operations table: one entry per "service:Action". Dispatch is on
// the operation name only; a name that is not in the table is refused.
type Mux struct {
	ops map[string]*Operation
}

// NewMux returns an empty table.
func NewMux() *Mux { return &Mux{ops: make(map[string]*Operation)} }

func (m *Mux) add(op *Operation) {
	key := op.Service + ":" + op.Action
	if _, dup := m.ops[key]; dup {
		panic(fmt.Sprintf("rpc: operation %s registered twice", key))
	}
	m.ops[key] = op
}

// Query registers a Query-protocol (form in, XML out) operation.
func (m *Mux) Query(service, action string, rules Rules, h Handler) {
	m.add(&Operation{Service: service, Action: action, Protocol: ProtocolQuery, Rules: rules, Handler: h})
}

// QueryUnsigned registers a Query-protocol operation that AWS allows without
// a signature.
func (m *Mux) QueryUnsigned(service, action string, rules Rules, h Handler) {
	m.add(&Operation{Service: service, Action: action, Protocol: ProtocolQuery, Rules: rules, Handler: h, Unsigned: true})
}

// JSON registers a JSON 1.1 operation.
func (m *Mux) JSON(service, action string, rules Rules, h Handler) {
	m.add(&Operation{Service: service, Action: action, Protocol: ProtocolJSON, Rules: rules, Handler: h})
}

// Lookup returns the operation, or nil.
func (m *Mux) Lookup(service, action string) *Operation {
	return m.ops[service+":"+action]
}

// Operations lists the table's keys, for documentation and tests.
func (m *Mux) Operations() []string {
	out := make([]string, 0, len(m.ops))
	for k := range m.ops {
		out = append(out, k)
	}
	return out
}
