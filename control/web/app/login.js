// The login page; with #invitation=<token> in the address, the "set your password" form instead.

import { podium, startPage } from "./shell.js";
import { act, formValues, say, showError } from "../lib/dom.js";

function destination() {
  const next = new URLSearchParams(location.search).get("next");
  // only paths on this site: never an open redirect
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/rooms.html";
}

async function main() {
  await startPage({ signedIn: false });
  const invitation = new URLSearchParams(location.hash.slice(1)).get("invitation");
  const login = document.getElementById("login");
  const accept = document.getElementById("accept");

  if (invitation) {
    login.hidden = true;
    accept.hidden = false;
    document.getElementById("title").textContent = "Welcome to Podium";
    accept.elements.password.focus();
    accept.addEventListener("submit", async (event) => {
      event.preventDefault();
      const { password, repeat } = formValues(accept);
      if (password !== repeat) {
        showError(new Error("The two passwords differ."));
        accept.elements.repeat.focus();
        return;
      }
      const ok = await act(accept.querySelector("button"), () => podium.acceptInvitation(invitation, password));
      if (ok) location.assign("/rooms.html");
    });
    return;
  }

  if (podium.signedIn) {
    say("You are signed in.");
    location.replace(destination());
    return;
  }
  const remembered = localStorage.getItem("podium.company");
  if (remembered) login.elements.company.value = remembered;
  (remembered ? login.elements.email : login.elements.company).focus();
  login.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { company, email, password } = formValues(login);
    const ok = await act(login.querySelector("button"), () => podium.login(company, email, password));
    if (ok) {
      localStorage.setItem("podium.company", company);
      say("Signed in.");
      location.assign(destination());
    } else {
      login.elements.password.select();
      login.elements.password.focus();
    }
  });
}

main().catch(showError);
