/* The chapters' saved widgets, drawn in the page without a kernel.
 *
 * A chapter saves its widgets with the notebook: the models' state once per page, and a view script
 * where each widget is shown. Every widget in the book switches between pictures the chapter drew in
 * advance (a slider or a row of buttons picks a page of a Stack through a jslink), so drawing them
 * needs no kernel and no widget library. The official manager (@jupyter-widgets/html-manager) did it
 * with 3.6 MB of JavaScript plus require.js and an icon font, more than the rest of a chapter page;
 * this draws the same models in a few kilobytes, with ipywidgets' class names and ARIA roles, so the
 * print stylesheet and the browser tests read the widgets as they read ipywidgets' own.
 *
 * The page carries only the attributes that are set (bookbuild/widgets.py): a missing one is unset.
 * A model this file cannot draw shows "Error displaying widget" (ipywidgets' words) and logs an
 * error; tests/test_site.py keeps every model the chapters save among the ones VIEWS draws.
 */
(() => {
  "use strict";
  const STATE = 'script[type="application/vnd.jupyter.widget-state+json"]';
  const VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';
  const REFERENCE = "IPY_MODEL_";

  /** A saved model: its attributes, and what to call when one of them changes. */
  class Model {
    constructor(name, state) {
      this.name = name;
      this.state = state;
      this.watchers = {};
    }
    get(key) { return this.state[key]; }
    set(key, value) {
      if (this.state[key] === value) return;  // also ends a jslink's echo
      this.state[key] = value;
      (this.watchers[key] || []).forEach(callback => callback(value));
    }
    watch(key, callback) { (this.watchers[key] ||= []).push(callback); }
  }

  function readModels() {
    const models = new Map();
    for (const script of document.querySelectorAll(STATE)) {
      for (const [id, saved] of Object.entries(JSON.parse(script.textContent).state)) {
        models.set(id, new Model(saved.model_name, saved.state));
      }
    }
    const lookUp = reference => models.get(String(reference).replace(REFERENCE, ""));
    return {models, lookUp};
  }

  /** jslink: a change on either side is copied to the other. */
  function link(models, lookUp) {
    for (const model of models.values()) {
      if (model.name !== "LinkModel") continue;
      const [[sourceId, sourceKey], [targetId, targetKey]] = [model.get("source"), model.get("target")];
      const [source, target] = [lookUp(sourceId), lookUp(targetId)];
      source.watch(sourceKey, value => target.set(targetKey, value));
      target.watch(targetKey, value => source.set(sourceKey, value));
    }
  }

  // Style attributes that are plain CSS on the widget; the others (widths, colours of parts) are
  // applied by the views they belong to.
  const STYLE_CSS = {font_size: "font-size", text_color: "color", background: "background", font_weight: "font-weight"};

  function element(tag, className) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    return el;
  }

  /** The widget's outer element: ipywidgets' classes, its layout as CSS, its own style. */
  function container(model, lookUp, className) {
    const el = element("div", `jupyter-widgets ${className}`);
    el.classList.add(...(model.get("_dom_classes") || []));
    const layout = lookUp(model.get("layout"));
    for (const [key, value] of Object.entries(layout ? layout.state : {})) {
      if (value !== null && !key.startsWith("_")) el.style.setProperty(key.replace(/_/g, "-"), value);
    }
    const style = lookUp(model.get("style"));
    for (const [key, property] of Object.entries(STYLE_CSS)) {
      if (style && style.get(key)) el.style.setProperty(property, style.get(key));
    }
    return el;
  }

  let labelCount = 0;

  /** The control's description as its label (hidden when empty, as in ipywidgets). */
  function described(el, model, lookUp, control) {
    const description = model.get("description");
    if (!description) return;
    const label = element("label", "widget-label");
    label.textContent = description;
    const style = lookUp(model.get("style"));
    if (style && style.get("description_width")) label.style.width = style.get("description_width");
    control.id ||= `bookbuild-widget-${++labelCount}`;
    label.htmlFor = control.id;
    el.prepend(label);
  }

  function boxView(className) {
    return (model, lookUp, draw) => {
      const el = container(model, lookUp, `widget-container widget-box ${className}`);
      el.append(...(model.get("children") || []).map(draw));
      return el;
    };
  }

  /** Shows one child at a time; ``pick`` draws how a reader chooses it (nothing for a Stack). */
  function pagedView(className, pick) {
    return (model, lookUp, draw) => {
      const el = container(model, lookUp, `widget-container ${className}`);
      const pages = (model.get("children") || []).map(draw);
      const show = index => pages.forEach((page, i) => { page.hidden = i !== index; });
      if (pick) el.append(pick(model, pages));
      el.append(...pages);
      show(model.get("selected_index"));
      model.watch("selected_index", show);
      return el;
    };
  }

  function tabBar(model, pages) {
    const bar = element("div", "widget-tab-bar");
    bar.setAttribute("role", "tablist");
    const tabs = (model.get("titles") || []).map((title, i) => {
      const tab = element("button", "widget-tab-title");
      tab.type = "button";
      tab.setAttribute("role", "tab");
      tab.textContent = title || String(i + 1);
      pages[i].setAttribute("role", "tabpanel");
      tab.addEventListener("click", () => model.set("selected_index", i));
      tab.addEventListener("keydown", event => {
        const step = {ArrowRight: 1, ArrowLeft: -1}[event.key];
        if (!step) return;
        const next = (i + step + tabs.length) % tabs.length;
        model.set("selected_index", next);
        tabs[next].focus();
      });
      return tab;
    });
    const show = index => tabs.forEach((tab, i) => {
      tab.setAttribute("aria-selected", String(i === index));
      tab.tabIndex = i === index ? 0 : -1;
    });
    show(model.get("selected_index"));
    model.watch("selected_index", show);
    bar.append(...tabs);
    return bar;
  }

  const VIEWS = {
    HTMLModel(model, lookUp) {
      const el = container(model, lookUp, "widget-html");
      const content = element("div", "widget-html-content");
      content.innerHTML = model.get("value") ?? "";
      model.watch("value", value => { content.innerHTML = value; });
      el.append(content);
      return el;
    },
    VBoxModel: boxView("widget-vbox"),
    HBoxModel: boxView("widget-hbox"),
    GridBoxModel: boxView("widget-gridbox"),
    StackModel: pagedView("widget-stack"),
    TabModel: pagedView("widget-tab", tabBar),

    SelectionSliderModel(model, lookUp) {
      const el = container(model, lookUp, "widget-inline-hbox widget-slider widget-hslider");
      const labels = model.get("_options_labels");
      const input = element("input", "widget-slider-input");
      Object.assign(input, {type: "range", min: 0, max: labels.length - 1, step: 1, disabled: model.get("disabled")});
      input.setAttribute("role", "slider");
      input.setAttribute("aria-valuemin", "0");
      input.setAttribute("aria-valuemax", String(labels.length - 1));
      const style = lookUp(model.get("style"));
      if (style && style.get("handle_color")) input.style.accentColor = style.get("handle_color");
      const readout = element("output", "widget-readout");
      readout.hidden = !model.get("readout");
      const show = index => {
        input.value = index;
        input.setAttribute("aria-valuenow", String(index));
        input.setAttribute("aria-valuetext", labels[index]);
        readout.textContent = labels[index];
      };
      show(model.get("index"));
      model.watch("index", show);
      input.addEventListener("input", () => model.set("index", Number(input.value)));
      el.append(input, readout);
      described(el, model, lookUp, input);
      return el;
    },

    ToggleButtonsModel(model, lookUp) {
      const el = container(model, lookUp, "widget-inline-hbox widget-toggle-buttons");
      const group = element("div", "widget-toggle-button-group");
      group.setAttribute("role", "group");
      const style = lookUp(model.get("style"));
      const buttons = model.get("_options_labels").map((text, i) => {
        const button = element("button", "widget-toggle-button");
        button.type = "button";
        button.textContent = text;
        button.disabled = model.get("disabled");
        if (style && style.get("button_width")) button.style.width = style.get("button_width");
        button.addEventListener("click", () => model.set("index", i));
        return button;
      });
      const show = index => buttons.forEach((button, i) => button.setAttribute("aria-pressed", String(i === index)));
      show(model.get("index"));
      model.watch("index", show);
      group.append(...buttons);
      el.append(group);
      described(el, model, lookUp, group);
      return el;
    },

    // A number the chapter computed. With no kernel behind the page, typing a new one would change
    // nothing, so the page shows it read-only.
    FloatTextModel(model, lookUp) {
      const el = container(model, lookUp, "widget-inline-hbox widget-text");
      const input = element("input", "widget-text-input");
      Object.assign(input, {type: "number", value: model.get("value"), readOnly: true});
      model.watch("value", value => { input.value = value; });
      el.append(input);
      described(el, model, lookUp, input);
      return el;
    },
  };

  function drawAll() {
    const {models, lookUp} = readModels();
    link(models, lookUp);
    const draw = reference => {
      const model = lookUp(reference);
      const view = model && VIEWS[model.name];
      if (view) return view(model, lookUp, draw);
      const name = model ? model.name : reference;
      console.error(`bookbuild-widgets.js cannot draw ${name}`);
      const failed = element("div", "jupyter-widgets widget-error");
      failed.textContent = `Error displaying widget: ${name}`;
      return failed;
    };
    for (const script of document.querySelectorAll(VIEW)) {
      script.before(draw(JSON.parse(script.textContent).model_id));
    }
    performance.mark("bookbuild-widgets-drawn");
  }

  // Drawn as soon as the page is parsed (readyState "interactive"), before the deferred scripts run:
  // the widgets do not wait for MathJax and the theme to download, and MathJax, starting after
  // them, typesets a formula in a widget with the rest of the page.
  if (document.readyState === "loading") document.addEventListener("readystatechange", drawAll, {once: true});
  else drawAll();
})();
