//go:build race

package adminapi_test

const raceEnabled = true
