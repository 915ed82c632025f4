package index

import (
	"strings"
	"unicode"
)

// Option is one value of a taxonomy category, with a one-line definition
// suitable for tooltips and API consumers.
type Option struct {
	Value      string `json:"value"`
	Label      string `json:"label"`
	Definition string `json:"definition"`
}

// Category is one of the 16 taxonomy categories of the Failures Database.
// Name is the stable field name used in indexes, URLs and JSON; Label is the
// display label used on the database's pages (and matched by the text parser).
type Category struct {
	Name       string   `json:"field"`
	Label      string   `json:"label"`
	Group      string   `json:"group"`
	Definition string   `json:"definition"`
	Options    []Option `json:"options"`
}

// Groups of categories, in the order the database's incident page shows them.
const (
	GroupFaults = "Software Taxonomy of Faults"
	GroupIoT    = "IoT System Layer"
	GroupOther  = "Other Details"
)

// Taxonomy lists the 16 categories in their canonical order. It must not be
// modified by callers.
var Taxonomy = []Category{
	{Name: "recurring", Label: "Recurring", Group: GroupFaults,
		Definition: "Whether a similar failure happened before, in the same organization or elsewhere.",
		Options: []Option{
			{"one_organization", "One organization", "A similar failure happened before within the same organization."},
			{"multiple_organization", "Multiple organizations", "A similar failure happened before at other organizations or with their products."},
			{"unknown", "Unknown", "The sources do not say whether the failure recurred."},
		}},
	{Name: "phase", Label: "Phase (Design/Operation)", Group: GroupFaults,
		Definition: "The lifecycle phase in which the failure's causes were introduced.",
		Options: []Option{
			{"design", "Design", "Introduced while the system was designed or developed (design flaws, bugs, bad requirements)."},
			{"operation", "Operation", "Introduced while the system was operated or used (misuse, misconfiguration, maintenance)."},
			{"unknown", "Unknown", "The sources do not say in which phase the causes arose."},
		}},
	{Name: "boundary", Label: "Boundary (Internal/External)", Group: GroupFaults,
		Definition: "Whether the failure's causes originated inside or outside the system.",
		Options: []Option{
			{"within_system", "Within system", "The contributing factors originated within the system."},
			{"outside_system", "Outside system", "The contributing factors originated outside the system (environment, attackers, other systems)."},
			{"unknown", "Unknown", "The sources do not say where the causes originated."},
		}},
	{Name: "nature", Label: "Nature (Human/Non-human)", Group: GroupFaults,
		Definition: "Whether the failure was caused by human actions or arose without human participation.",
		Options: []Option{
			{"human_actions", "Human actions", "Contributing factors were introduced by human actions."},
			{"non-human_actions", "Non-human actions", "Contributing factors were introduced without human participation."},
			{"unknown", "Unknown", "The sources do not say whether humans were involved."},
		}},
	{Name: "dimension", Label: "Dimension (Hardware/Software)", Group: GroupFaults,
		Definition: "Whether the failure originated in hardware or in software.",
		Options: []Option{
			{"hardware", "Hardware", "Contributing factors originated in hardware."},
			{"software", "Software", "Contributing factors originated in software."},
			{"unknown", "Unknown", "The sources do not say whether hardware or software was at fault."},
		}},
	{Name: "objective", Label: "Objective (Malicious/Non-malicious)", Group: GroupFaults,
		Definition: "Whether the failure was caused with intent to harm the system.",
		Options: []Option{
			{"malicious", "Malicious", "Contributing factors were introduced with intent to harm the system."},
			{"non-malicious", "Non-malicious", "Contributing factors were introduced without intent to harm."},
			{"unknown", "Unknown", "The sources do not say whether harm was intended."},
		}},
	{Name: "intent", Label: "Intent (Poor/Accidental Decisions)", Group: GroupFaults,
		Definition: "Whether the failure followed from poor decisions or from accidental ones.",
		Options: []Option{
			{"poor_decisions", "Poor decisions", "The failure followed from poor decisions by the people involved."},
			{"accidental_decisions", "Accidental decisions", "The failure followed from mistakes or unintended consequences of decisions."},
			{"unknown", "Unknown", "The sources do not say what decisions led to the failure."},
		}},
	{Name: "capability", Label: "Capability (Incompetence/Accidental)", Group: GroupFaults,
		Definition: "Whether the failure came from a lack of professional competence or happened by accident.",
		Options: []Option{
			{"development_incompetence", "Development incompetence", "The failure came from a lack of professional competence of the developers or the organization."},
			{"accidental", "Accidental", "The failure was introduced by accident."},
			{"unknown", "Unknown", "The sources do not say whether competence was at issue."},
		}},
	{Name: "duration", Label: "Duration", Group: GroupFaults,
		Definition: "Whether the failure was permanent or temporary.",
		Options: []Option{
			{"permanent", "Permanent", "The failure persisted under all circumstances until it was fixed."},
			{"temporary", "Temporary", "The failure occurred only under certain circumstances or for a limited time."},
			{"unknown", "Unknown", "The sources do not say how long the failure lasted."},
		}},
	{Name: "behaviour", Label: "Behaviour", Group: GroupFaults,
		Definition: "How the system behaved when it failed.",
		Options: []Option{
			{"crash", "Crash", "The system lost state and did not perform any of its intended functions."},
			{"omission", "Omission", "The system omitted to perform its intended functions at an instance or instances."},
			{"timing", "Timing", "The system performed its intended functions correctly, but too late or too early."},
			{"value", "Value", "The system performed its intended functions incorrectly."},
			{"byzantine", "Byzantine", "The system behaved erroneously with inconsistent responses and interactions."},
			{"other", "Other", "The system behaved in a way not described by the other options."},
			{"unknown", "Unknown", "The sources do not describe the system's behaviour."},
		}},
	{Name: "cps", Label: "CPS", Group: GroupFaults,
		Definition: "Whether the failed system is a cyber-physical system.",
		Options: []Option{
			{"cps", "Cyber-physical system", "The failed system combines software with physical components it senses or controls."},
			{"unknown", "Unknown", "The sources do not say whether the system is cyber-physical."},
		}},
	{Name: "perception", Label: "Perception", Group: GroupIoT,
		Definition: "The IoT perception layer: the part of the system that senses and acts on the physical world.",
		Options: []Option{
			{"sensor", "Sensor", "The failure involved a sensor."},
			{"actuator", "Actuator", "The failure involved an actuator."},
			{"processing_unit", "Processing unit", "The failure involved a processing unit of the device."},
			{"network_communication", "Network communication", "The failure involved the device's network communication."},
			{"embedded_software", "Embedded software", "The failure involved the device's embedded software."},
			{"none", "None", "The perception layer was not involved or does not exist."},
			{"unknown", "Unknown", "The sources do not say whether the perception layer was involved."},
		}},
	{Name: "communication", Label: "Communication", Group: GroupIoT,
		Definition: "The IoT communication layer: the links and networks that connect devices.",
		Options: []Option{
			{"link_level", "Link level", "The failure involved the physical or data-link level of communication."},
			{"connectivity_level", "Connectivity level", "The failure involved the network or transport level of communication."},
			{"none", "None", "The communication layer was not involved or does not exist."},
			{"unknown", "Unknown", "The sources do not say whether the communication layer was involved."},
		}},
	{Name: "application", Label: "Application", Group: GroupIoT,
		Definition: "The IoT application layer: the software services built on the devices and networks.",
		Options: []Option{
			{"application", "Application", "The failure involved the application layer."},
			{"none", "None", "The application layer was not involved or does not exist."},
			{"unknown", "Unknown", "The sources do not say whether the application layer was involved."},
		}},
	{Name: "consequence", Label: "Consequence", Group: GroupOther,
		Definition: "What the failure did to people and things.",
		Options: []Option{
			{"death", "Death", "People lost their lives due to the software failure."},
			{"harm", "Harm", "People were physically harmed due to the software failure."},
			{"basic", "Basic needs", "People's access to food or shelter was impacted because of the software failure."},
			{"property", "Property", "People's material goods, money, or data was impacted due to the software failure."},
			{"delay", "Delay", "People had to postpone an activity due to the software failure."},
			{"non-human", "Non-human", "Non-human entities were impacted due to the software failure."},
			{"no_consequence", "No consequence", "There were no real observed consequences of the software failure."},
			{"theoretical_consequence", "Theoretical consequence", "There were potential consequences discussed of the software failure that did not occur."},
			{"other", "Other", "There were consequences of the software failure not described by the other options."},
			{"unknown", "Unknown", "The sources do not describe the consequences."},
		}},
	{Name: "domain", Label: "Domain", Group: GroupOther,
		Definition: "The industry of the failed system.",
		Options: []Option{
			{"information", "Information", "Production and distribution of information: media, telecommunications, internet services."},
			{"transportation", "Transportation", "Moving people and goods: aviation, rail, road, shipping, space."},
			{"natural_resources", "Natural resources", "Extracting materials from the earth: mining, oil and gas, agriculture."},
			{"sales", "Sales", "Selling goods and services: retail, e-commerce, wholesale."},
			{"construction", "Construction", "Building and maintaining structures and infrastructure."},
			{"manufacturing", "Manufacturing", "Making goods in factories and plants."},
			{"utilities", "Utilities", "Power, water, gas and waste services."},
			{"finance", "Finance", "Banking, trading, insurance and payments."},
			{"knowledge", "Knowledge", "Education, research and professional knowledge work."},
			{"health", "Health", "Healthcare and medical devices."},
			{"entertainment", "Entertainment", "Arts, sports, games and leisure."},
			{"government", "Government", "Public administration, politics, defence and public services."},
			{"other", "Other", "An industry not described by the other options."},
			{"unknown", "Unknown", "The sources do not say which industry was involved."},
		}},
}

// CategoryNames lists the categories' field names in taxonomy order.
func CategoryNames() []string {
	names := make([]string, len(Taxonomy))
	for i, c := range Taxonomy {
		names[i] = c.Name
	}
	return names
}

var categoryByName = func() map[string]*Category {
	m := make(map[string]*Category, len(Taxonomy))
	for i := range Taxonomy {
		m[Taxonomy[i].Name] = &Taxonomy[i]
	}
	return m
}()

// LookupCategory returns the category with the given field name
// (case-insensitive) and whether it exists.
func LookupCategory(name string) (*Category, bool) {
	c, ok := categoryByName[strings.ToLower(strings.TrimSpace(name))]
	return c, ok
}

// HasOption reports whether value is part of the category's known vocabulary.
func (c *Category) HasOption(value string) bool {
	return c.Option(value) != nil
}

// Option returns the option with the given value, or nil for a value outside
// the known vocabulary.
func (c *Category) Option(value string) *Option {
	for i := range c.Options {
		if c.Options[i].Value == value {
			return &c.Options[i]
		}
	}
	return nil
}

// NormalizeOption turns an option as written in a report into its canonical
// form: lower case, surrounding space, punctuation and quotes (straight or
// typographic) trimmed, inner runs of spaces replaced by underscores
// ("No consequence" -> "no_consequence").
func NormalizeOption(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(".;\"'‘’“”", r)
	})
	s = strings.ToLower(s)
	return strings.Join(strings.Fields(s), "_")
}

// SplitOptions splits a comma-separated option cell into normalised,
// de-duplicated options in their original order. An empty cell yields nil,
// which means "not assessed".
func SplitOptions(cell string) []string {
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.Split(cell, ",") {
		v := NormalizeOption(part)
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}
