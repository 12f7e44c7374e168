// Package obie embeds the OBIE Read/Write API v3.1.11 and DCR v3.4 OpenAPI
// files, byte-for-byte copies of the upstream files (see SOURCE.md for their
// origin and the Open Banking Limited licence note; do not edit them). The
// server publishes them under /open-banking/specs/ and the tests validate
// every response against them.
package obie

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml SOURCE.md
var files embed.FS

// Files returns the embedded spec files, keyed by file name.
func Files() fs.FS { return files }

// Names of the embedded specs.
const (
	AccountInfo        = "account-info-openapi.yaml"
	PaymentInitiation  = "payment-initiation-openapi.yaml"
	ConfirmationFunds  = "confirmation-funds-openapi.yaml"
	Events             = "events-openapi.yaml"
	EventNotifications = "event-notifications-openapi.yaml"
	CallbackURLs       = "callback-urls-openapi.yaml"
	ClientRegistration = "client-registration-openapi.yaml"
	VRP                = "vrp-openapi.yaml"
)

// Read returns one embedded file.
func Read(name string) ([]byte, error) { return files.ReadFile(name) }
