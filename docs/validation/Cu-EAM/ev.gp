set terminal pngcairo size 800,560 enhanced font "DejaVu Sans,11"
set output "ev.png"
set xlabel "volume per atom (Å^3)"
set ylabel "energy per atom (eV)"
set key top center
set grid
set title "Cu fcc: E(V), perfect crystal, isotropic strain ±5 %"
plot "ev_reference.dat" u 1:2 w l lw 2 lc rgb "#1f77b4" t "reference (eam/alloy)", "ev_facet.dat" u 1:2 w lp pt 7 ps 0.6 lw 2 lc rgb "#d62728" t "facet (Cu-EAM)"
