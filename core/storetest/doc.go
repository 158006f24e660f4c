// Package storetest is the conformance suite for core.Store implementations.
//
// Every adapter runs it from one test, giving a constructor for fresh, empty
// stores:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) core.Store {
//			s, err := mystore.Open(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Run checks each clause of the core.Store doc comment in a subtest named
// after it: missing keys, compare-and-set and version order (Get, Put,
// Delete), copies in and out (Copies), ranges, order, Reverse and Limit
// (Scan), the index names core uses and the queries it makes of them (Index),
// keys and values with any bytes (Bytes), ended contexts (Context), concurrent
// writers and readers (Concurrency), core.BatchStore when the store
// implements it (Batch), and a few thousand records against an in-test model
// (Scale). A failure prints the call with its arguments and the got and want
// values, so one subtest can be rerun with
//
//	go test -run 'TestConformance/Scan/ReverseToLimit' ./adapters/mystore/
//
// The suite uses only the Store interface. It cannot see whether Scan reads
// an index or every record; an adapter shows that with a benchmark. An
// adapter's own tests add only what is specific to it: durability across
// reopen, translating its backend's errors, closing.
//
// Time-valued index entries in the suite are fixed-width strings whose byte
// order is time order, as core writes them; the suite starts no timers and
// never sleeps.
package storetest
