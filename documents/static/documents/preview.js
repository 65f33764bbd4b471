// In-browser PDF preview: the vendored pdf.js draws each page on a canvas in the page itself
// (X-Frame-Options is DENY, so no iframe). The PDF is the viewer's watermarked copy, fetched
// from our download view with the session cookie. Pages are drawn when they come near the screen,
// at the container's width and the device's pixel ratio, so a 375 px phone never scrolls sideways.
const root = document.getElementById("pdf-preview");

async function main() {
  if (!root) return;
  const status = root.querySelector("[data-status]");
  const pages = root.querySelector("[data-pages]");
  const say = (text) => { status.textContent = text; };
  let pdfjs;
  try {
    pdfjs = await import(root.dataset.pdfjs);
  } catch (error) {
    say("预览组件加载失败，请下载查看。");
    return;
  }
  pdfjs.GlobalWorkerOptions.workerSrc = root.dataset.worker;
  let pdf;
  try {
    pdf = await pdfjs.getDocument({
      url: root.dataset.src,
      withCredentials: true,
      cMapUrl: root.dataset.cmaps,
      cMapPacked: true,
      isEvalSupported: false,
    }).promise;
  } catch (error) {
    say("文件无法预览（可能已损坏或无权查看），请下载查看。");
    return;
  }
  say(`共 ${pdf.numPages} 页`);

  const draw = async (canvas) => {
    const page = await pdf.getPage(Number(canvas.dataset.page));
    const base = page.getViewport({ scale: 1 });
    const width = Math.max(pages.clientWidth, 200);
    const ratio = window.devicePixelRatio || 1;
    const viewport = page.getViewport({ scale: (width / base.width) * ratio });
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    await page.render({ canvasContext: canvas.getContext("2d"), viewport }).promise;
    canvas.style.aspectRatio = "";
    canvas.dataset.drawn = "1";
  };

  const observer = "IntersectionObserver" in window
    ? new IntersectionObserver((entries) => {
        for (const entry of entries) {
          if (entry.isIntersecting && !entry.target.dataset.drawn) {
            observer.unobserve(entry.target);
            draw(entry.target).catch(() => say("部分页面无法显示，请下载查看。"));
          }
        }
      }, { rootMargin: "400px 0px" })
    : null;

  for (let number = 1; number <= pdf.numPages; number += 1) {
    const canvas = document.createElement("canvas");
    canvas.dataset.page = String(number);
    canvas.setAttribute("aria-label", `第 ${number} 页`);
    // A placeholder height (A4 proportions) until the page is drawn keeps the scroll position sane.
    canvas.style.aspectRatio = "210 / 297";
    pages.appendChild(canvas);
    if (observer) observer.observe(canvas);
    else await draw(canvas);
  }
  root.addEventListener("contextmenu", (event) => event.preventDefault());
}

main();
