// Package storetest is the conformance suite that every [store.Store]
// implementation must pass.
//
// A backend's tests call [Run] with a function that opens a fresh, empty
// store for one test and arranges (with t.Cleanup) to close it; the suite may
// close the store itself first, so Close must tolerate a second call:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := bolt.Open(filepath.Join(t.TempDir(), "store.db"), bolt.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite checks the contracts documented on [store.Store] and [store.Tx]:
// the errors of each method, bytewise scan order with prefixes and after
// cursors, writes during a scan, rollback with the error passed through
// unchanged, read-only views, snapshot isolation, exact results under
// concurrent read-modify-write, large values, validation, context
// cancellation and Close. Cases run one after another, so a backend may share
// one database between them as long as each open starts empty.
package storetest
