package views_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/views"
)

func TestSuggestTags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		column, typ string
		want        []string
	}{
		// tpch, with Trino's exact types.
		{"c_phone", "varchar(15)", []string{"pii.phone"}},
		{"c_address", "varchar(40)", []string{"pii.address"}},
		{"c_acctbal", "decimal(12,2)", []string{"finance.amount"}},
		{"c_name", "varchar(25)", []string{"pii.name"}},
		{"c_custkey", "bigint", []string{}},
		{"c_mktsegment", "varchar(10)", []string{}},
		{"c_comment", "varchar(117)", []string{}},
		{"o_totalprice", "decimal(12,2)", []string{"finance.amount"}},
		{"o_orderdate", "date", []string{}},
		{"o_orderpriority", "varchar(15)", []string{}},
		{"l_extendedprice", "decimal(12,2)", []string{"finance.amount"}},
		{"ps_supplycost", "decimal(12,2)", []string{"finance.amount"}},
		{"s_phone", "varchar(15)", []string{"pii.phone"}},
		{"totalprice", "double", []string{"finance.amount"}},
		{"acctbal", "double", []string{"finance.amount"}},
		// Email.
		{"email", "varchar", []string{"pii.email"}},
		{"e_mail", "varchar(100)", []string{"pii.email"}},
		{"contactEmail", "varchar", []string{"pii.email"}},
		{"mail", "char(40)", []string{"pii.email"}},
		{"email_address", "varchar", []string{"pii.email"}},
		{"email", "bigint", []string{}},
		// Phone.
		{"mobile", "varchar", []string{"pii.phone"}},
		{"tel", "varchar", []string{"pii.phone"}},
		{"phone_number", "bigint", []string{"pii.phone"}},
		{"hotel", "varchar", []string{}},
		{"phone", "date", []string{}},
		// SSN and national IDs.
		{"ssn", "varchar(11)", []string{"pii.ssn"}},
		{"social_security_number", "varchar", []string{"pii.ssn"}},
		{"national_id", "varchar", []string{"pii.ssn"}},
		{"classname", "varchar", []string{}},
		// Names: string types only.
		{"first_name", "varchar", []string{"pii.name"}},
		{"lastName", "varchar(50)", []string{"pii.name"}},
		{"full_name", "char(80)", []string{"pii.name"}},
		{"name", "varchar", []string{"pii.name"}},
		{"name", "bigint", []string{}},
		{"table_name", "varchar", []string{}},
		// Addresses; an IP address is not a postal one.
		{"street", "varchar", []string{"pii.address"}},
		{"city", "varchar", []string{"pii.address"}},
		{"zip", "integer", []string{"pii.address"}},
		{"postal_code", "varchar", []string{"pii.address"}},
		{"billingAddress", "varchar", []string{"pii.address"}},
		{"ip_address", "varchar", []string{"pii.ip"}},
		// Dates of birth: date types only.
		{"dob", "date", []string{"pii.dob"}},
		{"date_of_birth", "timestamp(3)", []string{"pii.dob"}},
		{"birthday", "timestamp(6) with time zone", []string{"pii.dob"}},
		{"birth_place", "varchar", []string{}},
		// Amounts: numbers only.
		{"amount", "decimal(38,4)", []string{"finance.amount"}},
		{"salary", "integer", []string{"finance.amount"}},
		{"balance", "real", []string{"finance.amount"}},
		{"price", "varchar", []string{}},
		// Account numbers.
		{"iban", "varchar(34)", []string{"finance.account"}},
		{"account_number", "varchar", []string{"finance.account"}},
		{"credit_card", "varchar", []string{"finance.account"}},
		{"card", "bigint", []string{"finance.account"}},
		{"discard", "varchar", []string{}},
		// IP addresses, by name or by type.
		{"ip", "varchar(45)", []string{"pii.ip"}},
		{"client_ip", "varchar", []string{"pii.ip"}},
		{"ipaddress", "varchar", []string{"pii.ip"}},
		{"origin", "ipaddress", []string{"pii.ip"}},
		{"ship_mode", "varchar", []string{}},
		// Types Warden does not parse classify as nothing.
		{"email", "geometry", []string{}},
		{"", "varchar", []string{}},
	} {
		t.Run(tc.column+" "+tc.typ, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, views.SuggestTags(tc.column, tc.typ))
		})
	}
}
