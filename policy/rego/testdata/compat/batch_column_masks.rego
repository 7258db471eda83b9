package trino

batchColumnMasks contains {"index": i, "viewExpression": m} if {
	some i, r in input.action.filterResources
	m := mask(r.column)
}
