package trino

import "testing"

func TestOperationsAreSixtyThree(t *testing.T) {
	t.Parallel()
	ops := Operations()
	if len(ops) != 63 {
		t.Fatalf("got %d operations, want 63", len(ops))
	}
	filters := 0
	for _, op := range ops {
		if got := ParseOperation(op.String()); got != op {
			t.Errorf("ParseOperation(%q) = %v, want %v", op.String(), got, op)
		}
		if op.IsFilter() {
			filters++
		}
	}
	if filters != 6 {
		t.Errorf("got %d filter operations, want 6", filters)
	}
	if ParseOperation("CreateBranch") != OpUnknown {
		t.Error("an unknown name must parse as OpUnknown")
	}
}
