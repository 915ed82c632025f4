package index

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testGazetteer = `# test
Amazon: Amazon.com
Amazon Web Services: AWS
European Space Agency: ESA
British Airways: BA
AT&T
Post Office Ltd: Post Office Limited
Centre National d'Études Spatiales: CNES
`

func TestGazetteerMatch(t *testing.T) {
	g, err := ParseGazetteer("test", []byte(testGazetteer))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ text, want string }{
		{"Amazon's Alexa device was responsible", "Amazon"},
		{"1. AMAZON [1] 2. amazon.com", "Amazon"},
		{"Amazonia and the amazons", ""},
		{"Amazon Web Services, whose S3 team", "Amazon Web Services"},
		{"AWS services in the region, and Amazon", "Amazon Web Services|Amazon"},
		{"The European Space Agency (ESA) and CNES", "European Space Agency|Centre National d'Études Spatiales"},
		{"centre national d'etudes spatiales", "Centre National d'Études Spatiales"},
		{"esa and ba are not acronyms here; a BA flight is", "British Airways"},
		{"Based in Bath; AT&T's customers", "AT&T"},
		{"Post Office Limited relied on Horizon", "Post Office Ltd"},
		{"", ""},
	} {
		got := strings.Join(g.Match(tt.text), "|")
		if got != tt.want {
			t.Errorf("Match(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestGazetteerErrors(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"Amazon: Amazon.com,,AWS", "x:1: empty alias"},
		{"# c\nAmazon\nAWS\nGoogle: AWS", "x:4: alias \"AWS\" is already an alias of \"AWS\""},
		{"Amazon\nAMAZON: Prime", "x:2: \"Amazon\" and \"AMAZON\" are the same organisation name"},
		{": alias", "x:1: \"\" is not an organisation name"},
		{"\xff", "x: not valid UTF-8"},
	} {
		_, err := ParseGazetteer("x", []byte(tt.file))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseGazetteer(%q) = %v, want %q", tt.file, err, tt.want)
		}
	}
}

// TestGazetteerExtend checks that a user's file adds organisations and
// aliases to the shipped ones.
func TestGazetteerExtend(t *testing.T) {
	g, err := ParseGazetteer("shipped", []byte(testGazetteer))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Add("mine", []byte("Amazon: Amazon Inc\nRiver Adventures\n")); err != nil {
		t.Fatal(err)
	}
	if got := g.Match("Amazon Inc and River Adventures"); !cmp.Equal(got, []string{"Amazon", "River Adventures"}) {
		t.Errorf("extended gazetteer matches %q", got)
	}
	if err := g.Add("mine", []byte("Acme: AWS")); err == nil || !strings.Contains(err.Error(), "mine:1:") {
		t.Errorf("an alias taken by a shipped organisation: %v", err)
	}
}

// TestShippedGazetteer checks that the shipped gazetteer reads.
func TestShippedGazetteer(t *testing.T) {
	b, err := os.ReadFile("../data/organisations.gazetteer")
	if err != nil {
		t.Fatal(err)
	}
	g, err := ParseGazetteer("organisations.gazetteer", b)
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() < 100 {
		t.Errorf("%d organisations", g.Len())
	}
}

// TestStoredOrganisations checks that tagged organisations survive the
// stored form, and that an incident without them is stored as before.
func TestStoredOrganisations(t *testing.T) {
	in := Incident{ID: "x", Title: "T", Published: "2020-01-01", Articles: []int64{}, Taxonomy: map[string]Classification{},
		ResponsibleOrg: "Amazon Web Services", ImpactedOrg: "Amazon's customers"}
	g, err := ParseGazetteer("test", []byte(testGazetteer))
	if err != nil {
		t.Fatal(err)
	}
	plain := encodeStored(&in)
	if plain[1] != storedVersion {
		t.Errorf("untagged incident stored in version %d", plain[1])
	}
	g.Tag(&in)
	b := encodeStored(&in)
	got, err := DecodeStored(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if len(got.ResponsibleOrgs) != 1 || len(got.ImpactedOrgs) != 1 {
		t.Errorf("tags %v %v", got.ResponsibleOrgs, got.ImpactedOrgs)
	}
	if _, err := DecodeStored(b[:len(b)-2]); err == nil {
		t.Error("a truncated form decodes")
	}
	doc, err := Document(&in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"amazon_web_services\tAmazon Web Services", "amazon\tAmazon"}, doc[FieldOrgNames]); diff != "" {
		t.Errorf("org names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"amazon"}, doc[FieldImpactedOrgs]); diff != "" {
		t.Errorf("impacted (-want +got):\n%s", diff)
	}
}
