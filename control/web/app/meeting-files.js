// Files in the chat panel and the room's conference materials (docs/web-client.md, "Files"): a file
// picker beside the message box shares a file with the chosen recipient, shared files appear in the chat
// log with a download button, and the materials of the room are listed below the chat (moderators add
// them). The server decides who may share and read (lib/files.js); this module only shows its answers.

import { Files, formatSize } from "../lib/files.js";
import { mayChat } from "../lib/room-state.js";
import { act, fill, h, say } from "../lib/dom.js";

/** Wire files into the chat panel. `chatLog`, `chatForm`, `chatTo`: the chat panel's elements;
 * `label(participant)`: how a participant is named to this viewer; `panelBody`: where the materials list goes. */
export function attachFiles(meeting, { chatLog, chatForm, chatTo, label, panelBody }) {
  const files = new Files({ token: () => meeting._token() });
  const picker = h("input", { type: "file", id: "chat-file", name: "file", "aria-describedby": "chat-file-note" });
  const note = h("p", { class: "muted", id: "chat-file-note", hidden: true });
  const attach = h("div", { class: "field chat-attach" }, h("label", { for: "chat-file" }, "Share a file"), picker, note);
  chatForm.append(attach);

  const materialsList = h("ul", { class: "materials", id: "materials", "aria-label": "Conference materials" });
  const materialPicker = h("input", { type: "file", id: "material-file", name: "material" });
  const materialAdd = h("div", { class: "field", hidden: true },
    h("label", { for: "material-file" }, "Add a material"), materialPicker);
  const materials = h("section", { class: "stack", id: "materials-section", "aria-labelledby": "materials-title" },
    h("h3", { id: "materials-title" }, "Materials"), materialsList, materialAdd);
  panelBody.append(materials);

  const download = (item) => h("button", { type: "button", class: "file-download", "data-file-id": item.id,
    "aria-label": `Download ${item.name}`, onclick: (event) => act(event.currentTarget, () => files.save(item)) },
  `${item.name} (${formatSize(item.size)})`);

  picker.addEventListener("change", async () => {
    const file = picker.files[0];
    if (!file) return;
    const to = chatTo.value || null;
    await act(picker, () => files.share(meeting.meetingId, meeting.participantId, file, { to }),
      (item) => `You shared ${item.name}.`);
    picker.value = ""; // shared or refused (the reason is shown): the picker is ready for the next or the same file
  });
  materialPicker.addEventListener("change", async () => {
    const file = materialPicker.files[0];
    if (!file) return;
    await act(materialPicker, () => files.addMaterial(meeting.roomId, file), (item) => `${item.name} was added to the materials.`);
    materialPicker.value = "";
  });

  // a file shared in chat: a chat line with its download button
  meeting.addEventListener("file", ({ detail }) => {
    const from = detail.from === meeting.participantId ? "You" : (detail.from_name || label(meeting.participants.get(detail.from)));
    const to = detail.to ? (detail.to === meeting.participantId ? "to you" : `to ${detail.to_name || label(meeting.participants.get(detail.to))}`) : null;
    chatLog.append(h("li", { class: detail.to ? "private file" : "file" },
      h("strong", {}, from), to ? h("span", { class: "muted" }, ` (privately ${to})`) : null, " shared ", download(detail.file)));
    chatLog.scrollTop = chatLog.scrollHeight;
  });

  async function listMaterials() {
    if (!meeting.self || meeting.self.waiting) return;
    const listed = await files.materials(meeting.roomId).catch(() => null);
    if (!listed) return;
    fill(materialsList, listed.items.length ? listed.items.map((item) => h("li", {}, download(item)))
      : h("li", { class: "muted" }, "No materials yet."));
  }
  meeting.addEventListener("material-added", ({ detail }) => {
    say(`${detail.file.name} was added to the materials.`);
    listMaterials();
  });
  meeting.addEventListener("material-removed", listMaterials);
  meeting.addEventListener("admitted", listMaterials);

  let listed = false; // the first list once in the meeting itself (the join's reply is no event)
  function render() {
    if (!listed && meeting.self && !meeting.self.waiting) {
      listed = true;
      listMaterials();
    }
    const allowed = mayChat(meeting.room) && meeting.can("files");
    picker.disabled = !allowed;
    note.hidden = allowed;
    note.textContent = meeting.can("files") ? "Chat is off, so files cannot be shared." : "A moderator turned file sharing off for you.";
    materialAdd.hidden = !meeting.moderates;
  }
  meeting.addEventListener("participants", render);
  meeting.addEventListener("reconnected", listMaterials);
  render();
}
