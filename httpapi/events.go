package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/obank/obank/events"
	"github.com/obank/obank/ob"
)

// The events API (events-openapi.yaml): event subscriptions and aggregated
// polling, for client-credentials tokens with any of the accounts, payments
// or fundsconfirmations scopes.
//
// Decisions where the spec leaves room:
//   - x-jws-signature, declared required on POST/PUT /event-subscriptions,
//     is accepted and not verified, and responses are not signed: message
//     signing arrives with the payments API and will be applied here then.
//   - Another TPP's subscription is 403; an unknown EventSubscriptionId is
//     400 UK.OBIE.Resource.NotFound (OBIE: unknown ids are 400, not 404).
//   - POST /events answers 200 (the spec lists 200 and 201) and at once:
//     returnImmediately=false is accepted, there is no long polling.

// eventsPrefix is the base path of the events API ([EV] servers).
const eventsPrefix = "/open-banking/v3.1"

// eventScopes are the scopes that may use the events API.
var eventScopes = []string{"accounts", "payments", "fundsconfirmations"}

// eventRoutes registers the events API when the server has an events
// service (Config.Events).
func (s *Server) eventRoutes() {
	if s.events == nil {
		return
	}
	handle := func(pattern string, h handlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		s.mux.Handle(method+" "+eventsPrefix+path, s.handle(apiRoute, h))
	}
	handle("POST /event-subscriptions", s.createEventSubscription)
	handle("GET /event-subscriptions", s.getEventSubscriptions)
	handle("PUT /event-subscriptions/{EventSubscriptionId}", s.putEventSubscription)
	handle("DELETE /event-subscriptions/{EventSubscriptionId}", s.deleteEventSubscription)
	handle("POST /events", s.pollEvents)
	s.callbackURLRoutes() // legacy callback URLs (callbackurls.go)
}

// eventsClient returns the TPP of a request to the events API: a
// client-credentials token (not bound to a consent) carrying one of the
// event scopes, or 403.
func eventsClient(r *http.Request) (string, error) {
	st := stateOf(r)
	if st.grant != nil || st.token.GrantID != "" {
		return "", ob.Errorf(ob.CodeForbidden, "the events API needs a client-credentials token")
	}
	if !slices.ContainsFunc(st.token.Scopes, func(sc string) bool { return slices.Contains(eventScopes, sc) }) {
		return "", ob.Errorf(ob.CodeForbidden, "the access token has none of the accounts, payments or fundsconfirmations scopes")
	}
	if st.token.ClientID == "" {
		return "", ob.Errorf(ob.CodeForbidden, "the access token belongs to no TPP")
	}
	return st.token.ClientID, nil
}

// Wire shapes.

// obEventSubscription1 is the POST body.
type obEventSubscription1 struct {
	Data *obEventSubscriptionInput `json:"Data"`
}

type obEventSubscriptionInput struct {
	CallbackUrl *string  `json:"CallbackUrl"`
	Version     string   `json:"Version"`
	EventTypes  []string `json:"EventTypes"`
}

// obEventSubscriptionPut is the PUT body (OBEventSubscriptionResponse1).
type obEventSubscriptionPut struct {
	Data *struct {
		EventSubscriptionId string `json:"EventSubscriptionId"`
		obEventSubscriptionInput
	} `json:"Data"`
	Links *obLinks `json:"Links"`
	Meta  *obMeta  `json:"Meta"`
}

type obEventSubscriptionData struct {
	EventSubscriptionId string   `json:"EventSubscriptionId"`
	CallbackUrl         string   `json:"CallbackUrl,omitempty"`
	Version             string   `json:"Version"`
	EventTypes          []string `json:"EventTypes,omitempty"`
}

type obEventSubscriptionsData struct {
	EventSubscription []obEventSubscriptionData `json:"EventSubscription"`
}

type obEventPolling1 struct {
	MaxEvents         *int                       `json:"maxEvents"`
	ReturnImmediately *bool                      `json:"returnImmediately"`
	Ack               []string                   `json:"ack"`
	SetErrs           map[string]obEventSetError `json:"setErrs"`
}

type obEventSetError struct {
	Err         string `json:"err"`
	Description string `json:"description"`
}

type obEventPollingResponse1 struct {
	MoreAvailable bool              `json:"moreAvailable"`
	Sets          map[string]string `json:"sets"`
}

func eventSubscriptionData(sub events.Subscription) obEventSubscriptionData {
	return obEventSubscriptionData{
		EventSubscriptionId: sub.ID, CallbackUrl: sub.CallbackURL, Version: sub.Version, EventTypes: sub.EventTypes,
	}
}

// subscriptionInput converts and pre-checks a decoded body.
func subscriptionInput(d *obEventSubscriptionInput) (events.SubscriptionInput, error) {
	if d == nil {
		return events.SubscriptionInput{}, ob.FieldError(ob.CodeFieldMissing, "Data", "Data is required")
	}
	in := events.SubscriptionInput{Version: d.Version, EventTypes: d.EventTypes}
	if d.CallbackUrl != nil {
		if *d.CallbackUrl == "" {
			return events.SubscriptionInput{}, ob.FieldError(ob.CodeFieldInvalid, "Data.CallbackUrl",
				"CallbackUrl must be a URL; omit it for polling only")
		}
		in.CallbackURL = *d.CallbackUrl
	}
	return in, nil
}

func (s *Server) subscriptionLink(r *http.Request, id string) string {
	return s.linkBase(r) + eventsPrefix + "/event-subscriptions/" + id
}

// Handlers.

func (s *Server) createEventSubscription(w http.ResponseWriter, r *http.Request) error {
	tpp, err := eventsClient(r)
	if err != nil {
		return err
	}
	var body obEventSubscription1
	if err := s.decodeJSON(r, &body); err != nil {
		return err
	}
	in, err := subscriptionInput(body.Data)
	if err != nil {
		return err
	}
	sub, err := s.events.Create(r.Context(), tpp, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, envelope[obEventSubscriptionData]{
		Data: eventSubscriptionData(sub), Links: obLinks{Self: s.subscriptionLink(r, sub.ID)},
	})
}

func (s *Server) getEventSubscriptions(w http.ResponseWriter, r *http.Request) error {
	tpp, err := eventsClient(r)
	if err != nil {
		return err
	}
	subs, err := s.events.List(r.Context(), tpp)
	if err != nil {
		return err
	}
	data := obEventSubscriptionsData{EventSubscription: []obEventSubscriptionData{}}
	for _, sub := range subs {
		data.EventSubscription = append(data.EventSubscription, eventSubscriptionData(sub))
	}
	return writeJSON(w, http.StatusOK, envelope[obEventSubscriptionsData]{
		Data: data, Links: obLinks{Self: s.linkBase(r) + eventsPrefix + "/event-subscriptions"},
	})
}

func (s *Server) putEventSubscription(w http.ResponseWriter, r *http.Request) error {
	tpp, err := eventsClient(r)
	if err != nil {
		return err
	}
	id := r.PathValue("EventSubscriptionId")
	var body obEventSubscriptionPut
	if err := s.decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Data == nil {
		return ob.FieldError(ob.CodeFieldMissing, "Data", "Data is required")
	}
	if body.Data.EventSubscriptionId != id {
		return ob.FieldError(ob.CodeFieldInvalid, "Data.EventSubscriptionId",
			"EventSubscriptionId must match the subscription in the path")
	}
	in, err := subscriptionInput(&body.Data.obEventSubscriptionInput)
	if err != nil {
		return err
	}
	sub, err := s.events.Update(r.Context(), tpp, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, envelope[obEventSubscriptionData]{
		Data: eventSubscriptionData(sub), Links: obLinks{Self: s.subscriptionLink(r, sub.ID)},
	})
}

func (s *Server) deleteEventSubscription(w http.ResponseWriter, r *http.Request) error {
	tpp, err := eventsClient(r)
	if err != nil {
		return err
	}
	if err := s.events.Delete(r.Context(), tpp, r.PathValue("EventSubscriptionId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pollEvents(w http.ResponseWriter, r *http.Request) error {
	tpp, err := eventsClient(r)
	if err != nil {
		return err
	}
	var body obEventPolling1
	if err := s.decodeJSON(r, &body); err != nil {
		return err
	}
	req := events.PollRequest{MaxEvents: body.MaxEvents, ReturnImmediately: body.ReturnImmediately, Ack: body.Ack}
	if len(body.SetErrs) > 0 {
		req.SetErrs = make(map[string]events.SETError, len(body.SetErrs))
		for jti, e := range body.SetErrs {
			req.SetErrs[jti] = events.SETError{Err: e.Err, Description: e.Description}
		}
	}
	res, err := s.events.Poll(r.Context(), tpp, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, obEventPollingResponse1{MoreAvailable: res.MoreAvailable, Sets: res.Sets})
}
