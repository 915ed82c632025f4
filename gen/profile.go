package gen

// The figures below were measured from the real reports the project is
// given: the two seed pages (../shared/data/seeds) and the database's CSV
// export of 31 incidents (../shared/data/fail/incident_data.csv), 33
// incidents in all, by TestMeasureRealData (measure_test.go):
//
//	go test ./gen -run TestMeasureRealData -v
//
// Lengths are bytes of a field's text as index.ParseText returns it (mean,
// standard deviation, min and max over the incidents that have the field).
// Option figures are, per category, how many incidents had 0, 1, 2, ...
// options (0 = not assessed) and how often each option was chosen; options
// never seen get a small weight (optionSmoothing) so that every vocabulary
// word occurs in a large corpus, as it does in the full database.

// lengthStat is a measured length distribution.
type lengthStat struct{ mean, sd, min, max float64 }

// fieldLengths are the measured lengths of the prose fields, by field name
// (index.TextFields).
var fieldLengths = map[string]lengthStat{
	"title":                    {64, 6, 55, 80},
	"summary":                  {1051, 286, 0, 1307},
	"timeline":                 {230, 118, 70, 535},
	"system":                   {196, 186, 38, 757},
	"responsible_organization": {174, 112, 16, 410},
	"impacted_organization":    {168, 119, 14, 496},
	"software_causes":          {356, 268, 119, 1435},
	"non_software_causes":      {329, 187, 92, 761},
	"impacts":                  {816, 305, 227, 1650},
	"preventions":              {595, 177, 366, 1110},
	"fixes":                    {388, 169, 94, 704},
	"references":               {248, 136, 36, 515},
}

// rationaleLengths are the measured lengths of each category's rationale,
// over the incidents assessed in the category. All rationales together
// averaged 11,732 bytes (sd 3,530) and a whole report's text 16,345 bytes
// (sd 4,478); the seed pages are 15,011 and 17,524 bytes.
var rationaleLengths = map[string]lengthStat{
	"recurring":     {752, 260, 338, 1293},
	"phase":         {923, 263, 289, 1614},
	"boundary":      {901, 358, 314, 1995},
	"nature":        {984, 322, 387, 1677},
	"dimension":     {893, 317, 377, 1532},
	"objective":     {776, 323, 356, 1535},
	"intent":        {774, 331, 337, 1579},
	"capability":    {934, 289, 358, 1563},
	"duration":      {662, 170, 425, 1029},
	"behaviour":     {1298, 574, 239, 2229},
	"cps":           {778, 407, 247, 1498},
	"perception":    {844, 719, 4, 2408},
	"communication": {310, 252, 4, 707},
	"application":   {678, 366, 4, 1330},
	"consequence":   {1163, 809, 164, 3764},
	"domain":        {560, 410, 148, 2171},
}

// articleCounts[k] is how many incidents cited k news articles (from the
// CSV's Related Article IDs; both seeds cite one).
var articleCounts = []float64{0, 26, 3, 2, 1, 1}

// yearCounts are publication years of the measured incidents. 2017 had none
// in the sample; yearSmoothing keeps every year of 2010-2022 possible.
var yearCounts = map[int]float64{
	2010: 1, 2011: 1, 2012: 2, 2013: 3, 2014: 2, 2015: 3, 2016: 2,
	2017: 0, 2018: 6, 2019: 3, 2020: 5, 2021: 3, 2022: 2,
}

const (
	yearSmoothing   = 1.0
	optionSmoothing = 0.5
)

// optionProfile is one category's measured option figures.
type optionProfile struct {
	perIncident []float64          // [k] incidents with k options
	counts      map[string]float64 // option -> incidents that chose it
}

var optionProfiles = map[string]optionProfile{
	"recurring": {[]float64{1, 20, 12}, map[string]float64{"one_organization": 23, "multiple_organization": 16, "unknown": 5}},
	"phase":     {[]float64{0, 4, 29}, map[string]float64{"design": 33, "operation": 29}},
	"boundary":  {[]float64{0, 8, 25}, map[string]float64{"within_system": 32, "outside_system": 26}},
	"nature":    {[]float64{0, 5, 28}, map[string]float64{"non-human_actions": 32, "human_actions": 29}},
	"dimension": {[]float64{0, 18, 15}, map[string]float64{"software": 33, "hardware": 15}},
	"objective": {[]float64{0, 28, 5}, map[string]float64{"malicious": 25, "non-malicious": 13}},
	"intent":    {[]float64{0, 22, 11}, map[string]float64{"poor_decisions": 24, "accidental_decisions": 14, "unknown": 6}},
	"capability": {[]float64{0, 13, 20}, map[string]float64{
		"accidental": 26, "development_incompetence": 24, "unknown": 3}},
	"duration": {[]float64{0, 29, 4}, map[string]float64{"temporary": 30, "permanent": 7}},
	"behaviour": {[]float64{0, 14, 10, 3, 4, 2}, map[string]float64{
		"other": 25, "crash": 16, "value": 15, "omission": 10, "byzantine": 2, "unknown": 1}},
	"cps": {[]float64{17, 16}, map[string]float64{"cps": 10, "unknown": 6}},
	"perception": {[]float64{19, 8, 3, 3}, map[string]float64{
		"embedded_software": 11, "sensor": 4, "processing_unit": 3, "none": 2, "actuator": 1,
		"network_communication": 1, "unknown": 1}},
	"communication": {[]float64{19, 13, 1}, map[string]float64{
		"unknown": 10, "none": 2, "connectivity_level": 2, "link_level": 1}},
	"application": {[]float64{20, 13}, map[string]float64{"application": 11, "none": 2}},
	"consequence": {[]float64{0, 5, 15, 7, 5, 1}, map[string]float64{
		"property": 28, "theoretical_consequence": 26, "non-human": 12, "delay": 4, "harm": 4,
		"other": 4, "death": 2, "no_consequence": 1}},
	"domain": {[]float64{0, 20, 10, 3}, map[string]float64{
		"information": 18, "finance": 7, "entertainment": 6, "transportation": 6, "government": 6,
		"health": 2, "sales": 1, "utilities": 1, "other": 1, "knowledge": 1}},
}
