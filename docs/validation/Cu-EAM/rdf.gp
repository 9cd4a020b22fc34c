set terminal pngcairo size 800,560 enhanced font "DejaVu Sans,11"
set output "rdf.png"
set xlabel "r (Å)"
set ylabel "g(r)"
set grid
set title "Cu crystal, NVT 300 K: radial distribution function"
plot "rdf_reference.dat" u 1:2 w l lw 2 lc rgb "#1f77b4" t "reference (eam/alloy)", "rdf_facet.dat" u 1:2 w l dt 2 lw 2 lc rgb "#d62728" t "facet (Cu-EAM)"
