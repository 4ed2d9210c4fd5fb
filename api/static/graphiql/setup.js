// GraphiQL against this API: same origin only, the bearer token in the headers editor.
(function () {
  "use strict";

  const url = window.location.origin + window.location.pathname;
  const fetcher = GraphiQL.createFetcher({ url });

  const defaultHeaders = JSON.stringify(
    // HTTP header values must be ISO-8859-1: an ellipsis here made every fetch fail
    { Authorization: "Bearer PASTE-A-TOKEN-HERE (crkg token --role admin --subject you)" },
    null,
    2,
  );
  const defaultQuery = [
    "# crkg: every request needs a bearer token; put it in the Headers tab below.",
    "# Mint one with `crkg token --role admin --subject me` (development).",
    "",
    "{",
    "  me {",
    "    subject",
    "    role",
    "    permissions",
    "  }",
    "}",
    "",
  ].join("\n");

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultHeaders: defaultHeaders,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    }),
  );
})();
