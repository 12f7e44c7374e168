package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/obank/obank/events"
	"github.com/obank/obank/ob"
)

// The legacy callback URLs API (callback-urls-openapi.yaml, v3.1.7), for
// client-credentials tokens with any of the accounts, payments or
// fundsconfirmations scopes, like the events API. A callback URL is kept as
// the TPP's event subscription to every event type; see events/callbackurls.go
// for how the two coexist (an event subscription supersedes a callback URL).
//
// Decisions where the spec leaves room:
//   - x-jws-signature, declared required on POST and PUT, is accepted and
//     not verified, and responses are not signed, as in the events API.
//   - A second POST (the TPP has a callback URL or an event subscription)
//     is 400 UK.OBIE.Rules.ResourceAlreadyExists: the YAML declares no 409.
//   - Another TPP's callback URL is 403; an unknown CallbackUrlId is 400
//     UK.OBIE.Resource.NotFound (OBIE: unknown ids are 400, not 404).
//   - The Url follows the event-subscription rules: https, ending
//     /{version}/event-notifications, a public address; SETs are POSTed to
//     it as is.

// callbackURLRoutes registers the callback URLs API; eventRoutes calls it.
func (s *Server) callbackURLRoutes() {
	handle := func(pattern string, h handlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		s.mux.Handle(method+" "+eventsPrefix+path, s.handle(apiRoute, h))
	}
	handle("GET /callback-urls", s.getCallbackURLs)
	handle("POST /callback-urls", s.createCallbackURL)
	handle("PUT /callback-urls/{CallbackUrlId}", s.putCallbackURL)
	handle("DELETE /callback-urls/{CallbackUrlId}", s.deleteCallbackURL)
}

// Wire shapes.

// obCallbackUrl1 is the POST and PUT body.
type obCallbackUrl1 struct {
	Data *obCallbackUrlData1 `json:"Data"`
}

type obCallbackUrlData1 struct {
	Url     string `json:"Url"`
	Version string `json:"Version"`
}

type obCallbackUrlResponseData1 struct {
	CallbackUrlId string `json:"CallbackUrlId"`
	Url           string `json:"Url"`
	Version       string `json:"Version"`
}

type obCallbackUrlsResponseData1 struct {
	CallbackUrl []obCallbackUrlResponseData1 `json:"CallbackUrl"`
}

func callbackURLData(sub events.Subscription) obCallbackUrlResponseData1 {
	return obCallbackUrlResponseData1{CallbackUrlId: sub.ID, Url: sub.CallbackURL, Version: sub.Version}
}

func callbackURLInput(body obCallbackUrl1) (events.CallbackURLInput, error) {
	if body.Data == nil {
		return events.CallbackURLInput{}, ob.FieldError(ob.CodeFieldMissing, "Data", "Data is required")
	}
	return events.CallbackURLInput{URL: body.Data.Url, Version: body.Data.Version}, nil
}

func (s *Server) callbackURLLink(r *http.Request, id string) string {
	return s.linkBase(r) + eventsPrefix + "/callback-urls/" + id
}

// Handlers.

func (s *Server) getCallbackURLs(w http.ResponseWriter, r *http.Request) error {
	tpp, err := eventsClient(r)
	if err != nil {
		return err
	}
	subs, err := s.events.ListCallbackURLs(r.Context(), tpp)
	if err != nil {
		return err
	}
	data := obCallbackUrlsResponseData1{CallbackUrl: []obCallbackUrlResponseData1{}}
	for _, sub := range subs {
		data.CallbackUrl = append(data.CallbackUrl, callbackURLData(sub))
	}
	return writeJSON(w, http.StatusOK, envelope[obCallbackUrlsResponseData1]{
		Data: data, Links: obLinks{Self: s.linkBase(r) + eventsPrefix + "/callback-urls"},
	})
}

func (s *Server) createCallbackURL(w http.ResponseWriter, r *http.Request) error {
	tpp, err := eventsClient(r)
	if err != nil {
		return err
	}
	var body obCallbackUrl1
	if err := s.decodeJSON(r, &body); err != nil {
		return err
	}
	in, err := callbackURLInput(body)
	if err != nil {
		return err
	}
	sub, err := s.events.CreateCallbackURL(r.Context(), tpp, in)
	var e *ob.Error
	if errors.As(err, &e) && e.Code == ob.CodeRulesResourceAlreadyExists {
		// The one place ResourceAlreadyExists is 400, not 409: the
		// v3.1.7 YAML declares no 409 for POST /callback-urls.
		st := stateOf(r)
		st.err = err
		return writeJSON(w, http.StatusBadRequest, errorBody(http.StatusBadRequest, st.interactionID, e))
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, envelope[obCallbackUrlResponseData1]{
		Data: callbackURLData(sub), Links: obLinks{Self: s.callbackURLLink(r, sub.ID)},
	})
}

func (s *Server) putCallbackURL(w http.ResponseWriter, r *http.Request) error {
	tpp, err := eventsClient(r)
	if err != nil {
		return err
	}
	var body obCallbackUrl1
	if err := s.decodeJSON(r, &body); err != nil {
		return err
	}
	in, err := callbackURLInput(body)
	if err != nil {
		return err
	}
	sub, err := s.events.UpdateCallbackURL(r.Context(), tpp, r.PathValue("CallbackUrlId"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, envelope[obCallbackUrlResponseData1]{
		Data: callbackURLData(sub), Links: obLinks{Self: s.callbackURLLink(r, sub.ID)},
	})
}

func (s *Server) deleteCallbackURL(w http.ResponseWriter, r *http.Request) error {
	tpp, err := eventsClient(r)
	if err != nil {
		return err
	}
	if err := s.events.DeleteCallbackURL(r.Context(), tpp, r.PathValue("CallbackUrlId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
