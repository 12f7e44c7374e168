package payments

import "slices"

// Equality for UK.OBIE.Resource.ConsentMismatch: a payment order's
// Initiation must be the consent's.
//
// Decision: every field is compared exactly (byte for byte, case
// sensitive), with three documented exceptions that compare meaning rather
// than spelling, because the two JSON documents can legitimately spell the
// same value differently:
//
//   - amounts compare as exact money (currency and minor units): "10.5" and
//     "10.50" GBP are the same payment. An amount that does not parse is
//     compared as its string;
//   - scheme names compare after NormaliseScheme ("IBAN" = "UK.OBIE.IBAN");
//   - date-times compare as instants (time.Time.Equal), so "…T10:00:00Z"
//     and "…T11:00:00+01:00" match;
//   - an absent optional object and a present one with every member empty
//     are the same (the spec says unset fields are omitted, and a decoder
//     may produce either).
//
// Nothing is trimmed or case-folded: "Ref 1" and "ref 1" are different
// payments for the creditor's reconciliation.

// Equal reports whether two domestic Initiations are the same payment.
func Equal(a, b Initiation) bool {
	return a.InstructionIdentification == b.InstructionIdentification &&
		a.EndToEndIdentification == b.EndToEndIdentification &&
		a.LocalInstrument == b.LocalInstrument &&
		amountEqual(a.InstructedAmount, b.InstructedAmount) &&
		accountPtrEqual(a.DebtorAccount, b.DebtorAccount) &&
		accountEqual(a.CreditorAccount, b.CreditorAccount) &&
		addressEqual(a.CreditorPostalAddress, b.CreditorPostalAddress) &&
		remittanceEqual(a.RemittanceInformation, b.RemittanceInformation)
}

// EqualScheduled reports whether two scheduled Initiations are the same payment.
func EqualScheduled(a, b ScheduledInitiation) bool {
	return a.RequestedExecutionDateTime.Equal(b.RequestedExecutionDateTime) &&
		Equal(a.domestic(), b.domestic())
}

func (s ScheduledInitiation) domestic() Initiation {
	return Initiation{
		InstructionIdentification: s.InstructionIdentification,
		EndToEndIdentification:    s.EndToEndIdentification,
		LocalInstrument:           s.LocalInstrument,
		InstructedAmount:          s.InstructedAmount,
		DebtorAccount:             s.DebtorAccount,
		CreditorAccount:           s.CreditorAccount,
		CreditorPostalAddress:     s.CreditorPostalAddress,
		RemittanceInformation:     s.RemittanceInformation,
	}
}

// EqualStandingOrder reports whether two standing-order Initiations are the
// same order.
func EqualStandingOrder(a, b StandingOrderInitiation) bool {
	return a.Frequency == b.Frequency &&
		a.Reference == b.Reference &&
		a.NumberOfPayments == b.NumberOfPayments &&
		a.FirstPaymentDateTime.Equal(b.FirstPaymentDateTime) &&
		a.RecurringPaymentDateTime.Equal(b.RecurringPaymentDateTime) &&
		a.FinalPaymentDateTime.Equal(b.FinalPaymentDateTime) &&
		amountEqual(a.FirstPaymentAmount, b.FirstPaymentAmount) &&
		amountPtrEqual(a.RecurringPaymentAmount, b.RecurringPaymentAmount) &&
		amountPtrEqual(a.FinalPaymentAmount, b.FinalPaymentAmount) &&
		accountPtrEqual(a.DebtorAccount, b.DebtorAccount) &&
		accountEqual(a.CreditorAccount, b.CreditorAccount)
}

func amountEqual(a, b Amount) bool {
	if a.Currency != b.Currency {
		return false
	}
	ma, errA := a.Money()
	mb, errB := b.Money()
	if errA != nil || errB != nil {
		return a.Amount == b.Amount
	}
	return ma == mb
}

func amountPtrEqual(a, b *Amount) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return amountEqual(*a, *b)
}

func accountEqual(a, b Account) bool {
	return NormaliseScheme(a.SchemeName) == NormaliseScheme(b.SchemeName) &&
		a.Identification == b.Identification &&
		a.Name == b.Name &&
		a.SecondaryIdentification == b.SecondaryIdentification
}

func accountPtrEqual(a, b *Account) bool {
	var za, zb Account
	if a != nil {
		za = *a
	}
	if b != nil {
		zb = *b
	}
	return accountEqual(za, zb)
}

func remittanceEqual(a, b *RemittanceInformation) bool {
	var za, zb RemittanceInformation
	if a != nil {
		za = *a
	}
	if b != nil {
		zb = *b
	}
	return za == zb
}

func addressEqual(a, b *PostalAddress) bool {
	var za, zb PostalAddress
	if a != nil {
		za = *a
	}
	if b != nil {
		zb = *b
	}
	return za.AddressType == zb.AddressType && za.Department == zb.Department &&
		za.SubDepartment == zb.SubDepartment && za.StreetName == zb.StreetName &&
		za.BuildingNumber == zb.BuildingNumber && za.PostCode == zb.PostCode &&
		za.TownName == zb.TownName && za.CountrySubDivision == zb.CountrySubDivision &&
		za.Country == zb.Country && slices.Equal(za.AddressLines, zb.AddressLines)
}
