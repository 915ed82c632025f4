// Package data holds what faildex ships beside its bundled corpus of
// reports (this directory's .txt files, which `faildex index` reads from
// the file system): the organisation gazetteer that builds tag incidents
// with.
package data

import _ "embed"

// Organisations is the organisation gazetteer, organisations.gazetteer
// (its format is index.Gazetteer's).
//
//go:embed organisations.gazetteer
var Organisations []byte

// OrganisationsName names the gazetteer in error messages.
const OrganisationsName = "data/organisations.gazetteer"
