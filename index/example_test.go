package index_test

import (
	"fmt"

	"github.com/faildex/faildex/index"
)

func ExampleParseText() {
	report := `Incident: Payroll system pays staff twice
Published Date: 2019-01-02

Postmortem Analysis
Software Causes 1. An off-by-one error in the pay period loop [4711]

Software Taxonomy of Faults
Category Option Rationale
Phase (Design/Operation) design, operation (a) The loop was written wrong and run unchecked.
Behaviour value (a) crash: the system did not crash; it paid the wrong amounts.

IoT System Layer
Layer Option Rationale
Perception None None

Other Details
Category Option Rationale
Consequence property (a) death: nobody died. (d) property: money was paid out.
Domain finance (a) Payroll.
`
	in, warnings, err := index.ParseText("payroll.txt", "payroll", []byte(report))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(in.ID, in.Published, in.Title)
	fmt.Println("articles:", in.Articles)
	for _, c := range index.Taxonomy {
		if in.Assessed(c.Name) {
			fmt.Printf("%s: %v\n", c.Name, in.Options(c.Name))
		}
	}
	fmt.Println("cps assessed:", in.Assessed("cps"))
	fmt.Println("warnings:", len(warnings))
	// Output:
	// payroll 2019-01-02 Payroll system pays staff twice
	// articles: [4711]
	// phase: [design operation]
	// behaviour: [value]
	// perception: [none]
	// consequence: [property]
	// domain: [finance]
	// cps assessed: false
	// warnings: 0
}
