// A short tone for events a person should notice without looking: a knock at the waiting room (for
// moderators), being let in. Silent where the page may not play sound; the notice still shows.

/** Play a 0.4 s tone of `frequency` Hz. */
export function chime(frequency = 880) {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = frequency;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
    tone.onended = () => audio.close();
  } catch {
    // no audio output (or not allowed before a gesture): nothing to do
  }
}
